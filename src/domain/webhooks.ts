/**
 * Outgoing webhooks: signing (receivers verify with `verifyWebhook`, a copy of which can live in
 * their code), retry schedule, and which failures are worth retrying (HTTP and Slack).
 *
 * Signature: `x-keyward-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`,
 * `x-keyward-timestamp: <unix seconds>`. Several `v1=` values, comma-separated, are accepted so a
 * secret can be rotated without a gap.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-keyward-signature';
export const TIMESTAMP_HEADER = 'x-keyward-timestamp';
export const EVENT_HEADER = 'x-keyward-event';
export const DELIVERY_HEADER = 'x-keyward-delivery';
export const DEFAULT_TOLERANCE_S = 300;

const hmac = (secret: string, timestamp: number, body: string) => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/**
 * The old organisation-wide secret (every webhook of an org shared it, so a project Admin could
 * sign alerts for other projects' receivers). Only webhooks set before per-webhook secrets still
 * get a second signature under it, until their secret is rotated.
 */
export const deriveWebhookSecret = (serverSecret: string, orgId: string) =>
  `whsec_${createHmac('sha256', serverSecret).update(`keyward-webhook:${orgId}`).digest('base64url')}`;

/** A webhook's own signing secret: 256 random bits. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** Signs with each secret given (several `v1=` values: receivers accept any they know). */
export function signWebhook(secrets: string | readonly string[], body: string, now: Date, meta: { event?: string; delivery?: string } = {}): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: (typeof secrets === 'string' ? [secrets] : secrets).map((s) => `v1=${hmac(s, timestamp, body)}`).join(','),
  };
  if (meta.event) headers[EVENT_HEADER] = meta.event;
  if (meta.delivery) headers[DELIVERY_HEADER] = meta.delivery;
  return headers;
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' };

/**
 * For receivers: checks the raw body (exactly as received) against the headers. Header names are
 * matched case-insensitively; timestamps further than `toleranceS` from `now` are refused (replays).
 */
export function verifyWebhook(opts: {
  secret: string;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  now?: Date;
  toleranceS?: number;
}): VerifyResult {
  const get = (name: string) => {
    const hit = Object.entries(opts.headers).find(([k]) => k.toLowerCase() === name)?.[1];
    return Array.isArray(hit) ? hit[0] : hit;
  };
  const ts = get(TIMESTAMP_HEADER);
  const sig = get(SIGNATURE_HEADER);
  if (!ts || !sig || !/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'missing' };
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - Number(ts)) > (opts.toleranceS ?? DEFAULT_TOLERANCE_S)) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(hmac(opts.secret, Number(ts), opts.body), 'hex');
  const match = sig
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .some((s) => {
      const given = Buffer.from(s.slice(3), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  return match ? { ok: true } : { ok: false, reason: 'mismatch' };
}

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseMs: number;
  factor: number;
  maxMs: number;
}

/** ~30 s, 2 min, 8 min, 32 min, 2 h, 6 h, 6 h: about 15 hours before giving up. */
export const WEBHOOK_RETRY: RetryPolicy = { maxAttempts: 8, baseMs: 30_000, factor: 4, maxMs: 6 * 3_600_000 };
/** Slack posts: quick retries; a rate limit's Retry-After wins when longer. */
export const SLACK_RETRY: RetryPolicy = { maxAttempts: 5, baseMs: 5_000, factor: 3, maxMs: 10 * 60_000 };

/**
 * Delay before attempt `failed + 1` after `failed` failures (1-based), or null to give up.
 * `jitter` in [0, 1) spreads retries of many receivers (±20 %); pass a fixed value in tests.
 */
export function retryDelay(failed: number, policy: RetryPolicy = WEBHOOK_RETRY, jitter = 0.5, retryAfterMs?: number): number | null {
  if (failed < 1 || failed >= policy.maxAttempts) return null;
  const raw = Math.min(policy.maxMs, policy.baseMs * policy.factor ** (failed - 1));
  const spread = Math.round(raw * (0.8 + 0.4 * jitter));
  return Math.max(spread, retryAfterMs ?? 0);
}

/** Network errors (status undefined), 408, 425, 429 and 5xx are retried; other answers are final. */
export const isRetryableStatus = (status: number | undefined) =>
  status === undefined || status === 408 || status === 425 || status === 429 || status >= 500;

export type SlackFailure = 'retry' | 'surface' | 'drop';

/**
 * What to do when Slack refuses a post: retry transient errors; tell admins once about errors only
 * a human can fix (invite the bot, pick a channel, reinstall); drop what retrying cannot help.
 */
export function classifySlackError(code: string): SlackFailure {
  if (['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'timeout'].includes(code)) return 'retry';
  if (
    ['not_in_channel', 'channel_not_found', 'is_archived', 'restricted_action', 'invalid_auth', 'account_inactive', 'token_revoked', 'missing_scope', 'not_authed', 'team_access_not_granted'].includes(code)
  ) {
    return 'surface';
  }
  return 'drop';
}

/** The sentence an admin reads once when a destination keeps failing. */
export function slackFailureHint(code: string, channel?: string): string {
  const where = channel ? `<#${channel}>` : 'the alert channel';
  switch (code) {
    case 'not_in_channel':
      return `keyward is not in ${where}: invite @keyward there, or pick another channel with /limits set … channel=#channel.`;
    case 'channel_not_found':
    case 'is_archived':
      return `${where} no longer exists or is archived: pick another channel with /limits set … channel=#channel.`;
    case 'missing_scope':
      return 'The Slack app lacks a permission it needs: reinstall it from the app settings.';
    case 'invalid_auth':
    case 'token_revoked':
    case 'account_inactive':
    case 'not_authed':
      return 'The Slack bot token no longer works: reinstall the app or update SLACK_BOT_TOKEN.';
    default:
      return `Slack refused the message (${code}).`;
  }
}
