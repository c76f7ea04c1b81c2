/** `keyward settings show|set`: `/keyward settings` in the terminal (the CLI acts as an org admin). */
import { fmtTime } from '../../domain/calendar.js';
import { parseOrgSettings, parseProjectSettings } from '../../domain/settings.js';
import type { OrgSettingsView, ProjectDigestView } from '../../services/settings.js';
import type { Tokens } from '../args.js';
import { command, type Command } from '../spec.js';
import { asUsage, need } from './shared.js';

const orgJson = (v: OrgSettingsView) => ({ ...v, nextDigestAt: v.nextDigestAt?.toISOString() ?? null });

function printOrg(print: (s: string) => void, v: OrgSettingsView) {
  print(`alert channel   ${v.alertChannelId ?? 'none'} (org default for alerts and digests)`);
  print(`weekly digest   ${v.digestCron === null ? 'off' : `${v.digestCron} (${v.digestSource === 'org' ? 'this org' : 'default KEYWARD_DIGEST_CRON'})`}`);
  if (v.digestCron !== null) print(`next digest     ${fmtTime(v.nextDigestAt, v.timezone)} (${v.timezone})`);
  print(`digest channel  ${v.digestChannelId ?? 'per project'}`);
  for (const p of v.projects) print(`  ${p.name.padEnd(20)} digest → ${p.digestTo ?? 'nowhere (skipped)'}${p.digestChannelId ? ' (own digest channel)' : ''}`);
}

const printProject = (print: (s: string) => void, v: ProjectDigestView) =>
  print(`${v.name}: digest → ${v.digestTo ?? 'nowhere (no channel set)'}${v.digestChannelId ? ' (own digest channel)' : ''}; alerts → ${v.alertChannelId ?? 'org default channel'}`);

export const settingsCommands: Command[] = [
  command({
    path: ['settings', 'show'],
    args: '[<project>]',
    summary: 'Show the org default alert channel, the weekly digest schedule (next run) and where digests go.',
    flags: [],
    examples: ['keyward settings show', 'keyward settings show support-bot --json'],
    needs: 'org',
    parse: (t: Tokens) => ({ project: need(t, 0, 'settings show', 'nothing or a project name', 1)[0] }),
    async run(ctx, input) {
      const cron = ctx.config.jobs.digestCron;
      if (input.project) {
        const v = await ctx.services.settings.showProject(ctx.actor, input.project);
        return ctx.json ? ctx.emit({ project: v }) : printProject(ctx.print, v);
      }
      const v = await ctx.services.settings.showOrg(ctx.actor, cron);
      return ctx.json ? ctx.emit({ settings: orgJson(v) }) : printOrg(ctx.print, v);
    },
  }),
  command({
    path: ['settings', 'set'],
    args: '[<project>] name=value…',
    summary: 'Org: channel=<id>, digest="<cron>"|off|default, digest-channel=<id>|default. Project: digest-channel=<id>|default.',
    flags: [],
    details: 'The digest cron has 5 fields (minute hour day month weekday) in KEYWARD_TIMEZONE; a new schedule starts with its next run.',
    examples: ['keyward settings set channel=C0123ABC digest="0 9 * * MON"', 'keyward settings set digest=off', 'keyward settings set support-bot digest-channel=C0456DEF'],
    needs: 'org',
    parse: (t: Tokens) => {
      const args = need(t, 1, 'settings set', 'name=value settings (or a project and its settings)');
      if (args[0]!.includes('=')) return { project: undefined, org: asUsage(() => parseOrgSettings(args)) };
      const words = need(t, 2, 'settings set', 'settings after the project name');
      return { project: words[0]!, changes: asUsage(() => parseProjectSettings(words.slice(1))) };
    },
    async run(ctx, input) {
      if (input.project !== undefined) {
        const v = await ctx.services.settings.setProject(ctx.actor, input.project, input.changes!);
        if (ctx.json) return ctx.emit({ project: v });
        ctx.print('Saved.');
        return printProject(ctx.print, v);
      }
      const v = await ctx.services.settings.setOrg(ctx.actor, input.org!, ctx.config.jobs.digestCron);
      if (ctx.json) return ctx.emit({ settings: orgJson(v) });
      ctx.print('Saved.');
      printOrg(ctx.print, v);
    },
  }),
];
