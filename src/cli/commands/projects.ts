import { fmtTime } from '../../domain/calendar.js';
import { parseDescription, parseProjectName } from '../../domain/projects.js';
import { parseRole, roleLabel, type Role } from '../../domain/roles.js';
import { clip, type Tokens } from '../args.js';
import { projectJson, table } from '../format.js';
import { parseChannelId, parseUserId } from '../ids.js';
import { command, type Command } from '../spec.js';
import { asUsage, need, str } from './shared.js';

/** Lookups are case-insensitive (as in the service); new names must already be lowercase. */
const projectName = (raw: string) => asUsage(() => parseProjectName(raw.toLowerCase()));
const newProjectName = (raw: string) => asUsage(() => parseProjectName(raw));
const role = (raw: string) => asUsage(() => parseRole(raw));
const plural = (n: number) => `${n} active key${n === 1 ? '' : 's'}`;

export const projectCommands: Command[] = [
  command({
    path: ['projects', 'create'],
    args: '<name> [description...] [--admin <user-id>]',
    summary: 'Create a project (names: 2–40 lowercase letters, digits, "-").',
    flags: ['admin'],
    details: '--admin makes a Slack user the project\'s first Admin (the CLI itself is not a member).',
    examples: ['keyward projects create support-bot Customer support assistant', 'keyward projects create search --admin U012ABC3DEF'],
    needs: 'org',
    parse: (t: Tokens) => {
      const [name, ...rest] = need(t, 1, 'projects create', 'a project name');
      return {
        name: newProjectName(name!),
        description: asUsage(() => parseDescription(rest.join(' '))),
        admin: typeof t.flags.admin === 'string' ? parseUserId(t.flags.admin) : undefined,
      };
    },
    async run(ctx, input) {
      const project = await ctx.services.projects.create(ctx.actor, input.name, input.description);
      if (input.admin) await ctx.services.projects.addMember(ctx.actor, project.name, input.admin, 'admin');
      if (ctx.json) return ctx.emit({ project: projectJson(project), admin: input.admin ?? null });
      ctx.print(`Created project ${project.name}${input.admin ? ` with ${input.admin} as Admin` : ''}.`);
      if (!input.admin) ctx.print(`Add members with: keyward projects add ${project.name} <user-id> admin`);
    },
  }),
  command({
    path: ['projects', 'list'],
    args: '[--all]',
    summary: 'List projects (--all includes archived ones).',
    flags: ['all'],
    examples: ['keyward projects list', 'keyward projects list --all --json'],
    needs: 'org',
    parse: (t: Tokens) => {
      need(t, 0, 'projects list', '', 0);
      return { all: t.flags.all === true };
    },
    async run(ctx, input) {
      const projects = await ctx.services.projects.list(ctx.actor, { includeArchived: input.all });
      if (ctx.json) {
        return ctx.emit({
          projects: projects.map((p) => ({ ...projectJson(p), members: p.memberCount, activeKeys: p.activeKeys })),
        });
      }
      if (projects.length === 0) return ctx.print('No projects yet. Create one: keyward projects create <name> [description]');
      ctx.print(
        table(
          ['NAME', 'MEMBERS', 'KEYS', 'STATUS', 'DESCRIPTION'],
          projects.map((p) => [p.name, String(p.memberCount), String(p.activeKeys), p.archivedAt ? 'archived' : 'active', clip(p.description, 60)]),
        ),
      );
    },
  }),
  command({
    path: ['projects', 'show'],
    args: '<name>',
    summary: 'Show a project, its members and settings.',
    flags: [],
    examples: ['keyward projects show support-bot'],
    needs: 'org',
    parse: (t: Tokens) => ({ name: projectName(need(t, 1, 'projects show', 'a project name', 1)[0]!) }),
    async run(ctx, input) {
      const { project, members, activeKeys } = await ctx.services.projects.show(ctx.actor, input.name);
      const tz = ctx.config.timezone;
      if (ctx.json) {
        return ctx.emit({
          project: {
            ...projectJson(project),
            activeKeys,
            members: members.map((m) => ({ userId: m.userId, role: m.role, addedBy: m.addedBy, addedAt: m.createdAt.toISOString() })),
          },
        });
      }
      ctx.print(`${project.name}${project.archivedAt ? ` (archived ${fmtTime(project.archivedAt, tz)})` : ''}`);
      if (project.description) ctx.print(project.description);
      ctx.print(`  id:            ${project.id}`);
      ctx.print(`  alert channel: ${project.alertChannelId ?? '-'}`);
      ctx.print(`  active keys:   ${activeKeys}`);
      ctx.print(`  created:       ${fmtTime(project.createdAt, tz)} by ${project.createdBy}`);
      ctx.print('');
      if (members.length === 0) return ctx.print(`No members. Add one: keyward projects add ${project.name} <user-id> <role>`);
      ctx.print(table(['MEMBER', 'ROLE', 'ADDED'], members.map((m) => [m.userId, roleLabel(m.role as Role), fmtTime(m.createdAt, tz)])));
    },
  }),
  command({
    path: ['projects', 'add'],
    args: '<name> <user-id> <admin|developer|viewer>',
    summary: 'Add a Slack user to a project with a role.',
    flags: [],
    examples: ['keyward projects add support-bot U012ABC3DEF developer', "keyward projects add support-bot '<@U012ABC3DEF|ana>' viewer"],
    needs: 'org',
    parse: (t: Tokens) => {
      const [name, user, r] = need(t, 3, 'projects add', 'a project, a user id and a role', 3);
      return { name: projectName(name!), userId: parseUserId(user!), role: role(r!) };
    },
    async run(ctx, input) {
      const res = await ctx.services.projects.addMember(ctx.actor, input.name, input.userId, input.role);
      if (ctx.json) return ctx.emit({ project: res.project.name, userId: res.userId, role: res.role });
      ctx.print(`Added ${res.userId} to ${res.project.name} as ${roleLabel(res.role)}.`);
    },
  }),
  command({
    path: ['projects', 'role'],
    args: '<name> <user-id> <admin|developer|viewer>',
    summary: "Change a member's role.",
    flags: [],
    examples: ['keyward projects role support-bot U012ABC3DEF admin'],
    needs: 'org',
    parse: (t: Tokens) => {
      const [name, user, r] = need(t, 3, 'projects role', 'a project, a user id and a role', 3);
      return { name: projectName(name!), userId: parseUserId(user!), role: role(r!) };
    },
    async run(ctx, input) {
      const res = await ctx.services.projects.setRole(ctx.actor, input.name, input.userId, input.role);
      if (ctx.json) {
        return ctx.emit({ project: res.project.name, userId: res.userId, role: res.role, previous: res.previous, changed: res.changed });
      }
      ctx.print(
        res.changed
          ? `${res.userId} is now ${roleLabel(res.role)} of ${res.project.name} (was ${roleLabel(res.previous)}).`
          : `${res.userId} already is ${roleLabel(res.role)} of ${res.project.name}; nothing changed.`,
      );
    },
  }),
  command({
    path: ['projects', 'remove'],
    args: '<name> <user-id> [--transfer-to <user-id>]',
    summary: "Remove a member; their active keys in the project are revoked, or handed to another member.",
    flags: ['transfer-to'],
    details: '--transfer-to gives their active keys to another Admin or Developer of the project instead of revoking them.',
    examples: ['keyward projects remove support-bot U012ABC3DEF', 'keyward projects remove support-bot U012ABC3DEF --transfer-to U034GHI5JKL'],
    needs: 'org',
    parse: (t: Tokens) => {
      const [name, user] = need(t, 2, 'projects remove', 'a project and a user id', 2);
      const heir = str(t.flags['transfer-to']);
      return { name: projectName(name!), userId: parseUserId(user!), transferTo: heir === undefined ? null : parseUserId(heir) };
    },
    async run(ctx, input) {
      const res = await ctx.services.projects.removeMember(ctx.actor, input.name, input.userId, { transferTo: input.transferTo });
      const ids = (keys: { id: string }[]) => keys.map((k) => k.id);
      if (ctx.json) {
        return ctx.emit({
          project: res.project.name, userId: res.userId, previous: res.previous,
          revokedKeys: ids(res.revokedKeys), transferredKeys: ids(res.transferredKeys), transferredTo: res.transferTo,
        });
      }
      ctx.print(`Removed ${res.userId} (${roleLabel(res.previous)}) from ${res.project.name}.`);
      if (res.transferTo && res.transferredKeys.length) {
        ctx.print(`Transferred ${plural(res.transferredKeys.length)} to ${res.transferTo}: ${ids(res.transferredKeys).join(', ')}`);
      } else if (res.revokedKeys.length) {
        ctx.print(`Revoked ${plural(res.revokedKeys.length)}: ${ids(res.revokedKeys).join(', ')}`);
      } else {
        ctx.print('They owned no active keys in the project.');
      }
    },
  }),
  command({
    path: ['projects', 'archive'],
    args: '<name>',
    summary: 'Archive a project and revoke all its active keys.',
    flags: [],
    examples: ['keyward projects archive old-prototype'],
    needs: 'org',
    parse: (t: Tokens) => ({ name: projectName(need(t, 1, 'projects archive', 'a project name', 1)[0]!) }),
    async run(ctx, input) {
      const res = await ctx.services.projects.archive(ctx.actor, input.name);
      if (ctx.json) return ctx.emit({ project: res.project.name, archived: true, revokedKeys: res.revokedKeys });
      ctx.print(`Archived ${res.project.name}; revoked ${res.revokedKeys} active key${res.revokedKeys === 1 ? '' : 's'}.`);
    },
  }),
  command({
    path: ['projects', 'channel'],
    args: '<name> <channel-id>',
    summary: "Set the project's alert channel.",
    flags: [],
    examples: ['keyward projects channel support-bot C012ABC3DEF'],
    needs: 'org',
    parse: (t: Tokens) => {
      const [name, channel] = need(t, 2, 'projects channel', 'a project and a channel id', 2);
      return { name: projectName(name!), channel: parseChannelId(channel!) };
    },
    async run(ctx, input) {
      const res = await ctx.services.projects.setChannel(ctx.actor, input.name, input.channel);
      if (ctx.json) return ctx.emit({ project: res.name, alertChannel: res.alertChannelId });
      ctx.print(`Alerts for ${res.name} go to ${res.alertChannelId}. Invite the keyward app to that channel.`);
    },
  }),
];
