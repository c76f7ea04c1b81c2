/**
 * `/limits set` grammar including the notification settings of the usage issue:
 * hard/rpm/itpm/otpm (domain/limits.ts) plus soft, thresholds, channel, notify and webhook.
 */
import { DEFAULT_THRESHOLDS, parseThresholds } from './alerts.js';
import { echo, invalid } from './errors.js';
import { parseLimitChanges, parseUsd, type LimitChanges } from './limits.js';

export const NOTIFY_KINDS = ['channel', 'admins', 'webhook'] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];
/** Without a `notify` setting alerts go to the channel only. */
export const DEFAULT_NOTIFY: readonly NotifyKind[] = ['channel'];

export interface LimitSettings extends LimitChanges {
  softMicros?: bigint | null;
  /** Stored as JSON text; null = default thresholds. */
  thresholds?: number[] | null;
  channelId?: string | null;
  notify?: NotifyKind[] | null;
  webhookUrl?: string | null;
  /** `webhook-secret=rotate`: a new signing secret for this limit's webhook. */
  rotateWebhookSecret?: true;
}

const EXTRA = ['soft', 'thresholds', 'channel', 'notify', 'webhook', 'webhook-secret'] as const;
const CLEAR = new Set(['none', 'off', '-', 'default']);

/** "channel,admins" → kinds (unique, in canonical order). */
export function parseNotify(raw: string): NotifyKind[] {
  const parts = raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (parts.length === 0) throw invalid('notify takes a list: channel, admins, webhook (e.g. notify=channel,admins).');
  for (const p of parts) {
    if (!(NOTIFY_KINDS as readonly string[]).includes(p)) throw invalid(`notify: "${echo(p, 20)}" is not one of channel, admins, webhook.`);
  }
  return NOTIFY_KINDS.filter((k) => parts.includes(k));
}

/** Stored notify text → kinds (unknown words ignored, so old rows never break alerts). */
export function notifyOf(stored: string | null | undefined): NotifyKind[] {
  if (!stored) return [...DEFAULT_NOTIFY];
  const parts = stored.split(',');
  return NOTIFY_KINDS.filter((k) => parts.includes(k));
}

export function thresholdsOf(stored: string | null | undefined): number[] {
  if (!stored) return [...DEFAULT_THRESHOLDS];
  try {
    const v = JSON.parse(stored) as unknown;
    if (Array.isArray(v) && v.every((n) => typeof n === 'number')) return v as number[];
  } catch {
    // fall through to the defaults
  }
  return [...DEFAULT_THRESHOLDS];
}

/** `<#C123|name>`, `<#C123>`, `#C123` or `C123` → `C123`. */
export function parseChannelRef(raw: string): string {
  const m = /^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(raw) ?? /^#?([CG][A-Z0-9]{2,})$/.exec(raw);
  if (m) return m[1]!;
  throw invalid(`channel: "${echo(raw, 30)}" is not a channel. Pick it from the #-menu so Slack sends a link (or give its id, e.g. C0123ABC).`);
}

/** Only https, no credentials in the URL, at most 2000 characters. */
export function parseWebhookUrl(raw: string): string {
  const text = raw.trim().replace(/^<(.*)>$/, '$1').split('|')[0]!; // Slack wraps links as <url|label>
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`webhook: "${echo(text, 40)}" is not a URL. Give an https URL, e.g. webhook=https://example.com/hooks/keyward.`);
  }
  if (url.protocol !== 'https:') throw invalid('webhook: only https URLs are accepted (alerts carry spend data).');
  if (url.username || url.password) throw invalid('webhook: put no user or password in the URL; verify the x-keyward-signature header instead.');
  if (text.length > 2000) throw invalid('webhook: the URL is longer than 2000 characters.');
  return url.toString();
}

/** Every `name=value` of `/limits set`; hard/rpm/itpm/otpm go through parseLimitChanges. */
export function parseLimitSettings(args: string[]): LimitSettings {
  if (args.length === 0) {
    throw invalid('Nothing to set: give at least one of hard=<usd> soft=<usd> rpm=<n> itpm=<n> otpm=<n> thresholds=50,75,90,100 channel=#channel notify=channel,admins,webhook webhook=<https url>.');
  }
  const base: string[] = [];
  const out: LimitSettings = {};
  const seen = new Set<string>();
  for (const arg of args) {
    const m = /^([a-z][a-z-]*)=(.*)$/is.exec(arg.trim());
    const name = m?.[1]!.toLowerCase() ?? '';
    if (!m || !(EXTRA as readonly string[]).includes(name)) {
      base.push(arg);
      continue;
    }
    if (seen.has(name)) throw invalid(`${name} is given twice.`);
    seen.add(name);
    const value = m[2]!.trim();
    const clear = CLEAR.has(value.toLowerCase());
    if (name === 'soft') out.softMicros = clear ? null : parseUsd(value);
    else if (name === 'thresholds') out.thresholds = clear ? null : parseThresholds(value);
    else if (name === 'channel') out.channelId = clear ? null : parseChannelRef(value);
    else if (name === 'notify') out.notify = clear ? null : parseNotify(value);
    else if (name === 'webhook-secret') {
      if (value.toLowerCase() !== 'rotate') throw invalid('webhook-secret takes only "rotate": webhook-secret=rotate makes a new signing secret (the old one stops at once).');
      out.rotateWebhookSecret = true;
    } else out.webhookUrl = clear ? null : parseWebhookUrl(value);
  }
  try {
    return base.length ? { ...parseLimitChanges(base), ...out } : out;
  } catch (error) {
    // parseLimitChanges does not know the extra names: say all of them.
    if (error instanceof Error && /Unknown setting/.test(error.message)) {
      throw invalid(`${error.message.replace(/ Use .*$/, '')} Use hard, soft, rpm, itpm, otpm, thresholds, channel, notify, webhook or webhook-secret=rotate (name=value).`);
    }
    throw error;
  }
}
