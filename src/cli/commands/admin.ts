import { migrate } from '../../db/migrate.js';
import { fmtTime } from '../../domain/calendar.js';
import { parseSince } from '../../domain/durations.js';
import { parseProjectName } from '../../domain/projects.js';
import { listAudit } from '../../services/audit.js';
import { clip, type Tokens } from '../args.js';
import { table } from '../format.js';
import { command, type Command } from '../spec.js';
import { asUsage, need, str, wholeNumber } from './shared.js';

export const adminCommands: Command[] = [
  command({
    path: ['audit'],
    args: '[--project <name>] [--since 7d] [--actor <id>] [--limit N]',
    summary: 'Show the audit log, newest first (default: last 50 events).',
    flags: ['project', 'since', 'actor', 'limit'],
    details: 'Actors look like slack:U012ABC3DEF, cli:<os user> or system.',
    examples: ['keyward audit --since 7d', 'keyward audit --project support-bot --limit 200 --json', 'keyward audit --actor cli:alice'],
    needs: 'org',
    parse: (t: Tokens) => {
      need(t, 0, 'audit', '', 0);
      const project = str(t.flags.project);
      if (str(t.flags.since)) asUsage(() => parseSince(str(t.flags.since)!, new Date())); // refuse a bad value before opening anything
      return {
        project: project ? asUsage(() => parseProjectName(project.toLowerCase())) : undefined,
        since: str(t.flags.since),
        actor: str(t.flags.actor)?.trim(),
        limit: wholeNumber(t.flags.limit, 'limit', 1, 10_000) ?? 50,
      };
    },
    async run(ctx, input) {
      const since = input.since ? asUsage(() => parseSince(input.since!, ctx.now())) : undefined;
      const project = input.project
        ? (await ctx.services.projects.require(ctx.actor, input.project, 'audit.view', { allowArchived: true })).project
        : undefined;
      const events = await listAudit(ctx.db, { orgId: ctx.actor.orgId, projectId: project?.id, actor: input.actor, since, limit: input.limit });
      const projects = await ctx.db.project.findMany({ where: { orgId: ctx.actor.orgId }, select: { id: true, name: true } });
      const names = new Map(projects.map((p) => [p.id, p.name]));
      const rows = events.map((e) => ({
        id: e.id, at: e.createdAt.toISOString(), actor: e.actor, action: e.action,
        project: e.projectId ? (names.get(e.projectId) ?? null) : null, projectId: e.projectId,
        targetType: e.targetType, targetId: e.targetId, details: e.details,
      }));
      if (ctx.json) return ctx.emit({ events: rows });
      if (rows.length === 0) return ctx.print('No audit events match.');
      ctx.print(
        table(
          ['TIME', 'ACTOR', 'ACTION', 'PROJECT', 'TARGET', 'DETAILS'],
          events.map((e, i) => [
            fmtTime(e.createdAt, ctx.config.timezone), e.actor, e.action, rows[i]!.project ?? '-', e.targetId ?? '-',
            clip(JSON.stringify(e.details), 80),
          ]),
        ),
      );
    },
  }),
  command({
    path: ['orgs'],
    args: '',
    summary: 'List the organisations (Slack workspaces) in this database.',
    flags: [],
    details: 'Pass --org <team id or org id> to any command when there is more than one.',
    examples: ['keyward orgs', 'keyward --org T012ABC3DEF projects list'],
    needs: 'db',
    parse: (t: Tokens) => need(t, 0, 'orgs', '', 0),
    async run(ctx) {
      const orgs = await ctx.db.org.findMany({ orderBy: { createdAt: 'asc' }, include: { _count: { select: { projects: true } } } });
      const rows = orgs.map((o) => ({
        id: o.id, slackTeamId: o.slackTeamId, name: o.name, projects: o._count.projects, createdAt: o.createdAt.toISOString(),
      }));
      if (ctx.json) return ctx.emit({ orgs: rows });
      if (rows.length === 0) return ctx.print('No organisations yet: the first Slack request or CLI command creates one.');
      ctx.print(
        table(
          ['ID', 'SLACK TEAM', 'NAME', 'PROJECTS', 'CREATED'],
          orgs.map((o) => [o.id, o.slackTeamId ?? '(not connected yet)', o.name ?? '-', String(o._count.projects), fmtTime(o.createdAt, ctx.config.timezone)]),
        ),
      );
    },
  }),
  command({
    path: ['migrate'],
    args: '',
    summary: 'Apply pending database migrations (safe while the server runs).',
    flags: [],
    examples: ['keyward migrate', 'DATABASE_URL=postgresql://keyward@db/keyward keyward migrate'],
    needs: 'config',
    parse: (t: Tokens) => need(t, 0, 'migrate', '', 0),
    async run(ctx) {
      const applied = await migrate(ctx.config.databaseUrl);
      if (ctx.json) return ctx.emit({ applied });
      if (applied.length === 0) return ctx.print('Database is up to date; no migrations to apply.');
      ctx.print(`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:`);
      for (const name of applied) ctx.print(`  ${name}`);
    },
  }),
];
