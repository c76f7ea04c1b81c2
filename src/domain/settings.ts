/**
 * `/keyward settings` grammar: org-level `channel=`, `digest=` and `digest-channel=`, and a
 * project's `digest-channel=`. A cron has spaces, so `digest=0 9 * * 1` takes the words after it
 * up to the next `name=` (quotes, straight or Slack's smart ones, are optional).
 */
import { echo, invalid } from './errors.js';
import { nextSlot, parseCron } from './jobs.js';
import { parseChannelRef } from './limit-settings.js';

/** Stored in Org.digestCron: no weekly digest for this org. */
export const DIGEST_OFF = 'off';
const CLEAR = new Set(['none', 'default', '-']);

export interface OrgSettingChanges {
  /** The org default alert channel (fallback for alerts and digests). */
  alertChannelId?: string | null;
  /** A validated cron, "off", or null = KEYWARD_DIGEST_CRON. */
  digestCron?: string | null;
  digestChannelId?: string | null;
}

export interface ProjectSettingChanges {
  digestChannelId?: string | null;
}

/** `name=value` pairs; a value runs on over following words without `=` (cron fields). */
function pairs(args: string[], usage: string): [string, string][] {
  if (args.length === 0) throw invalid(`Nothing to set: ${usage}`);
  const out: [string, string][] = [];
  for (const word of args) {
    const m = /^([a-z][a-z-]*)=(.*)$/is.exec(word);
    if (m) out.push([m[1]!.toLowerCase(), m[2]!]);
    else if (out.length) out[out.length - 1]![1] += ` ${word}`;
    else throw invalid(`"${echo(word, 30)}" is not a setting: ${usage}`);
  }
  const seen = new Set<string>();
  for (const [name] of out) {
    if (seen.has(name)) throw invalid(`${name} is given twice.`);
    seen.add(name);
  }
  return out.map(([n, v]) => [n, v.trim().replace(/^["'“”‘’](.*)["'“”‘’]$/s, '$1').trim()]);
}

const channelOrClear = (v: string) => (CLEAR.has(v.toLowerCase()) ? null : parseChannelRef(v));

export const ORG_SETTINGS_USAGE = 'channel=<#channel>, digest=<cron>|off|default, digest-channel=<#channel>|default.';
export const PROJECT_SETTINGS_USAGE = 'digest-channel=<#channel>|default.';

export function parseOrgSettings(args: string[]): OrgSettingChanges {
  const out: OrgSettingChanges = {};
  for (const [name, value] of pairs(args, ORG_SETTINGS_USAGE)) {
    if (name === 'channel') out.alertChannelId = channelOrClear(value);
    else if (name === 'digest-channel') out.digestChannelId = channelOrClear(value);
    else if (name === 'digest') {
      const v = value.toLowerCase();
      out.digestCron = v === DIGEST_OFF ? DIGEST_OFF : CLEAR.has(v) ? null : parseCron(value).source;
    } else throw invalid(`Unknown setting "${echo(name, 20)}": use ${ORG_SETTINGS_USAGE}`);
  }
  return out;
}

export function parseProjectSettings(args: string[]): ProjectSettingChanges {
  const out: ProjectSettingChanges = {};
  for (const [name, value] of pairs(args, PROJECT_SETTINGS_USAGE)) {
    if (name === 'digest-channel') out.digestChannelId = channelOrClear(value);
    else throw invalid(`Unknown project setting "${echo(name, 20)}": use ${PROJECT_SETTINGS_USAGE} (alerts: /project channel, /limits set).`);
  }
  return out;
}

/** The cron an org's digest follows, or null when it is off. */
export const digestCronOf = (stored: string | null | undefined, fallback: string): string | null =>
  stored === DIGEST_OFF ? null : stored || fallback;

/** When the digest runs next (null when off), for `/keyward settings`. */
export function nextDigest(stored: string | null | undefined, fallback: string, now: Date, timeZone: string): Date | null {
  const cron = digestCronOf(stored, fallback);
  return cron ? nextSlot(parseCron(cron), now, timeZone) : null;
}

/** Digest destination: the project's digest channel, the org's, the project's alert channel, the org default. */
export const digestChannelOf = (
  org: { digestChannelId: string | null; alertChannelId: string | null },
  project: { digestChannelId: string | null; alertChannelId: string | null },
): string | null => project.digestChannelId ?? org.digestChannelId ?? project.alertChannelId ?? org.alertChannelId;

/** JobRun name of an org's digest slots: `(digest:<org>, slot)` runs once across replicas. */
export const digestJobName = (orgId: string) => `digest:${orgId}`;
