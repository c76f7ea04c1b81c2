/**
 * `/keyward audit [project] [--since 7d] [--actor @user] [--csv]`: the latest events, readable; --csv
 * uploads every matching event (up to 10,000) to the asker's DM. Org admins see everything; project
 * Admins see their project's events (audit.view).
 */
import type { WebClient } from '@slack/web-api';
import { forbidden, invalid } from '../../domain/errors.js';
import { parseSince } from '../../domain/durations.js';
import { csvField } from '../../domain/reviews.js';
import { listAudit } from '../../services/audit.js';
import type { Actor } from '../../services/index.js';
import { WebClientNotifier } from '../../services/notifier.js';
import type { SlackDeps } from '../context.js';
import { parseUser, splitFlags } from '../parse.js';
import { packWithin } from '../views/approvals.js';
import { context, esc, fitMessage, header, note, slackDate, type Message } from '../views/common.js';

const SHOWN = 30;
type Event = Awaited<ReturnType<typeof listAudit>>[number];

const actorText = (a: string) => (a.startsWith('slack:') ? `<@${a.slice(6)}>` : `\`${esc(a)}\``);

/** "key.revoked key_123 {"reason":"…"}" with user text escaped and long details cut. */
function eventLine(e: Event, projects: Map<string, string>): string {
  const details = JSON.stringify(e.details);
  const project = e.projectId ? ` · ${projects.get(e.projectId) ?? e.projectId}` : '';
  const target = e.targetId ? ` \`${esc(e.targetId)}\`` : '';
  return `• ${slackDate(e.createdAt)} ${actorText(e.actor)} *${esc(e.action)}*${target}${project}${details !== '{}' ? ` — ${esc(details.slice(0, 200))}` : ''}`;
}

export function auditMessage(events: Event[], projects: Map<string, string>, filter: string): Message {
  if (!events.length) return note(`No audit events${filter}.`);
  const { blocks, shown } = packWithin(events.slice(0, SHOWN).map((e) => eventLine(e, projects)), 40);
  return fitMessage(`Audit log${filter}: latest ${shown} events`, [
    header(`Audit log${filter}`),
    ...blocks,
    context(`Latest ${shown} event${shown === 1 ? '' : 's'}, newest first. \`--csv\` for all of them; \`keyward audit --json\` on the server.`),
  ]);
}

export function auditCsv(events: Event[], projects: Map<string, string>): string {
  const head = ['id', 'time', 'actor', 'action', 'project', 'target_type', 'target_id', 'details'];
  const rows = events.map((e) => [e.id, e.createdAt, e.actor, e.action, e.projectId ? projects.get(e.projectId) ?? e.projectId : '', e.targetType, e.targetId, JSON.stringify(e.details)]);
  return [head, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export async function runAudit(deps: SlackDeps, client: WebClient, actor: Actor, tokens: string[]): Promise<Message> {
  // `--csv` is a switch (splitFlags flags take values).
  const isCsv = (t: string) => /^(--|—)csv$/i.test(t);
  const csv = tokens.some(isCsv);
  const { args, flags } = splitFlags(tokens.filter((t) => !isCsv(t)), ['since', 'actor']);
  if (args.length > 1) throw invalid('Usage: `/keyward audit [project] [--since 7d] [--actor @user] [--csv]`.');
  const since = flags.since ? parseSince(flags.since, deps.now()) : undefined;
  const who = flags.actor ? `slack:${parseUser(flags.actor)}` : undefined;
  let projectId: string | undefined;
  if (args[0]) projectId = (await deps.services.projects.require(actor, args[0], 'audit.view', { allowArchived: true })).project.id;
  else if (!actor.orgAdmin) throw forbidden('Only org admins see the whole audit log: name a project you administer, e.g. `/keyward audit support-bot`.');
  const { db } = deps.services.deps;
  const events = await listAudit(db, { orgId: actor.orgId, projectId, actor: who, since, limit: csv ? 10_000 : SHOWN });
  const projects = new Map((await db.project.findMany({ where: { orgId: actor.orgId }, select: { id: true, name: true } })).map((p) => [p.id, p.name]));
  const filter = `${args[0] ? ` for ${args[0].toLowerCase()}` : ''}${flags.since ? ` since ${flags.since}` : ''}${who ? ` by ${actorText(who)}` : ''}`;
  if (!csv) return auditMessage(events, projects, filter);
  const notifier = new WebClientNotifier(client);
  const posted = await notifier.dm(actor.userId!, note(`Audit log${filter}: ${events.length} events, CSV attached.`));
  await notifier.upload({ channel: posted.channel, filename: 'keyward-audit.csv', title: 'keyward audit log', content: auditCsv(events, projects) });
  return note(`I sent the CSV of ${events.length} audit events${filter} to your DM.`);
}
