/**
 * `/keyward settings`: org admins show and set the org default alert channel and the weekly
 * digest (schedule and channel); `/keyward settings <project> digest-channel=…` is the per-project
 * digest channel (project Admins). Rules and audit live in SettingsService.
 */
import { fmtTime } from '../../domain/calendar.js';
import type { Actor } from '../../services/index.js';
import type { OrgSettingsView, ProjectDigestView } from '../../services/settings.js';
import type { SlackDeps } from '../context.js';
import { header, section, context, esc, fitMessage, type Message } from '../views/common.js';
import { jobSettingsOf } from './run.js';

const ch = (id: string | null, none = 'none') => (id ? `<#${id}>` : none);

export function orgSettingsMessage(v: OrgSettingsView, saved = false): Message {
  const schedule = v.digestCron === null ? 'off' : `\`${v.digestCron}\` (${v.digestSource === 'org' ? 'this org' : 'default'}), next ${fmtTime(v.nextDigestAt, v.timezone)}`;
  const text = `${saved ? 'Saved. ' : ''}Org settings: alert channel ${ch(v.alertChannelId)}, weekly digest ${schedule}, digest channel ${ch(v.digestChannelId, 'per project')}.`;
  const lines = v.projects.slice(0, 30).map((p) => `• *${esc(p.name)}* → ${ch(p.digestTo, 'nowhere (skipped)')}${p.digestChannelId ? ' (its own digest channel)' : ''}`);
  return fitMessage(text, [
    header('Keyward settings'),
    section(
      `*Default alert channel* ${ch(v.alertChannelId)} — alerts and digests of projects without a channel\n` +
        `*Weekly digest* ${schedule} (${v.timezone})\n*Digest channel* ${ch(v.digestChannelId, 'per project (its channel)')}`,
    ),
    ...(lines.length ? [section(`*Where each project's digest goes*\n${lines.join('\n')}`)] : []),
    context('Change: `/keyward settings channel=#ch digest="0 9 * * 1"|off|default digest-channel=#ch|default` · a project: `/keyward settings <project> digest-channel=#ch|default`'),
  ]);
}

export function projectSettingsMessage(v: ProjectDigestView, saved = false): Message {
  const text = `${saved ? 'Saved. ' : ''}${v.name}: digest goes to ${ch(v.digestTo, 'nowhere (no channel set)')}${v.digestChannelId ? '' : ' (no digest channel of its own)'}; alerts to ${ch(v.alertChannelId, 'the org default channel')}.`;
  return fitMessage(text, [section(text)]); // project names are slugs: nothing to escape
}

export async function runSettings(deps: SlackDeps, actor: Actor, args: string[]): Promise<Message> {
  const cron = jobSettingsOf(deps).digestCron;
  const settings = deps.services.settings;
  const [first] = args;
  const orgLevel = !first || first.includes('=') || first.toLowerCase() === 'org';
  if (orgLevel) {
    const words = first?.toLowerCase() === 'org' ? args.slice(1) : args;
    return words.length ? orgSettingsMessage(await settings.setOrg(actor, words, cron), true) : orgSettingsMessage(await settings.showOrg(actor, cron));
  }
  const words = args.slice(1);
  return words.length ? projectSettingsMessage(await settings.setProject(actor, first!, words), true) : projectSettingsMessage(await settings.showProject(actor, first!));
}
