import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  classifySlackError,
  deriveWebhookSecret,
  newWebhookSecret,
  isRetryableStatus,
  retryDelay,
  signWebhook,
  SLACK_RETRY,
  slackFailureHint,
  verifyWebhook,
  WEBHOOK_RETRY,
} from '../../src/domain/webhooks.js';
import { parseLimitSettings } from '../../src/domain/limit-settings.js';

const secret = 'whsec_test';
const body = JSON.stringify({ id: 'lim_1:2026-11:pct:75', percentage: 75 });
const now = new Date('2026-11-26T10:00:00Z');

describe('webhook signatures', () => {
  it('signs with several secrets at once (a receiver accepts any it knows); new secrets are random', () => {
    const h = signWebhook([secret, 'whsec_other'], body, now);
    expect(h['x-keyward-signature']).toMatch(/^v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    for (const s of [secret, 'whsec_other']) expect(verifyWebhook({ secret: s, body, headers: h, now })).toEqual({ ok: true });
    expect(verifyWebhook({ secret: 'whsec_third', body, headers: h, now })).toEqual({ ok: false, reason: 'mismatch' });
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newWebhookSecret()).not.toBe(a);
  });

  it('signs `${timestamp}.${body}` with HMAC-SHA256, as documented', () => {
    const h = signWebhook(secret, body, now, { event: 'limit.threshold', delivery: 'd1' });
    const ts = String(now.getTime() / 1000);
    expect(h['x-keyward-timestamp']).toBe(ts);
    // An independent receiver computes the same value.
    expect(h['x-keyward-signature']).toBe(`v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
    expect(h['x-keyward-event']).toBe('limit.threshold');
    expect(h['x-keyward-delivery']).toBe('d1');
    expect(h['content-type']).toBe('application/json');
  });

  it('verifies a genuine delivery, with any header case', () => {
    const h = signWebhook(secret, body, now);
    expect(verifyWebhook({ secret, body, headers: h, now })).toEqual({ ok: true });
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), [v]]));
    expect(verifyWebhook({ secret, body, headers: upper, now: new Date(now.getTime() + 299_000) })).toEqual({ ok: true });
  });

  it('refuses a changed body, a wrong secret, a moved timestamp, a stale or missing header', () => {
    const h = signWebhook(secret, body, now);
    expect(verifyWebhook({ secret, body: body.replace('75', '76'), headers: h, now })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhook({ secret: 'other', body, headers: h, now })).toEqual({ ok: false, reason: 'mismatch' });
    const moved = { ...h, 'x-keyward-timestamp': String(Number(h['x-keyward-timestamp']) + 1) };
    expect(verifyWebhook({ secret, body, headers: moved, now })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhook({ secret, body, headers: h, now: new Date(now.getTime() + 301_000) })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhook({ secret, body, headers: h, now: new Date(now.getTime() - 301_000) })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhook({ secret, body, headers: { 'x-keyward-timestamp': h['x-keyward-timestamp'] }, now })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyWebhook({ secret, body, headers: { ...h, 'x-keyward-signature': 'v1=zz' }, now })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('accepts any of several signatures (secret rotation)', () => {
    const h = signWebhook(secret, body, now);
    const both = { ...h, 'x-keyward-signature': `v1=${'0'.repeat(64)}, ${h['x-keyward-signature']}` };
    expect(verifyWebhook({ secret, body, headers: both, now }).ok).toBe(true);
  });

  it('derives a stable, per-org secret from the server secret', () => {
    const a = deriveWebhookSecret('s'.repeat(32), 'org_1');
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(deriveWebhookSecret('s'.repeat(32), 'org_1')).toBe(a);
    expect(deriveWebhookSecret('s'.repeat(32), 'org_2')).not.toBe(a);
    expect(deriveWebhookSecret('t'.repeat(32), 'org_1')).not.toBe(a);
  });
});

describe('retries', () => {
  it('backs off exponentially up to a cap, then gives up', () => {
    const delays = Array.from({ length: 9 }, (_, i) => retryDelay(i + 1, WEBHOOK_RETRY, 0.5));
    expect(delays).toEqual([30_000, 120_000, 480_000, 1_920_000, 7_680_000, 21_600_000, 21_600_000, null, null]);
    expect(retryDelay(0)).toBeNull();
  });

  it('spreads delays ±20% with jitter and honours a longer Retry-After', () => {
    expect(retryDelay(1, WEBHOOK_RETRY, 0)).toBe(24_000);
    expect(retryDelay(1, WEBHOOK_RETRY, 0.999999)).toBe(36_000);
    expect(retryDelay(1, SLACK_RETRY, 0.5, 60_000)).toBe(60_000);
    expect(retryDelay(1, SLACK_RETRY, 0.5, 1_000)).toBe(5_000);
    expect(retryDelay(5, SLACK_RETRY, 0.5, 60_000)).toBeNull();
  });

  it('retries only transient HTTP failures', () => {
    for (const s of [undefined, 408, 425, 429, 500, 502, 503]) expect(isRetryableStatus(s), String(s)).toBe(true);
    for (const s of [200, 301, 400, 401, 403, 404, 410, 422]) expect(isRetryableStatus(s), String(s)).toBe(false);
  });

  it('classifies Slack errors: retry, tell an admin once, or drop', () => {
    expect(classifySlackError('ratelimited')).toBe('retry');
    expect(classifySlackError('internal_error')).toBe('retry');
    expect(classifySlackError('not_in_channel')).toBe('surface');
    expect(classifySlackError('channel_not_found')).toBe('surface');
    expect(classifySlackError('invalid_auth')).toBe('surface');
    expect(classifySlackError('msg_too_long')).toBe('drop');
    expect(slackFailureHint('not_in_channel', 'C123')).toMatch(/invite @keyward there.*<#C123>|<#C123>.*invite @keyward/);
    expect(slackFailureHint('channel_not_found')).toMatch(/the alert channel no longer exists/);
    expect(slackFailureHint('weird')).toBe('Slack refused the message (weird).');
  });
});

describe('webhook-secret=rotate in /limits set', () => {
  it('parses alone or with other settings; any other value or a repeat is refused', () => {
    expect(parseLimitSettings(['webhook-secret=rotate'])).toEqual({ rotateWebhookSecret: true });
    expect(parseLimitSettings(['WEBHOOK-SECRET=Rotate', 'soft=5'])).toEqual({ rotateWebhookSecret: true, softMicros: 5_000_000n });
    expect(() => parseLimitSettings(['webhook-secret=whsec_mine'])).toThrow('webhook-secret takes only "rotate"');
    expect(() => parseLimitSettings(['webhook-secret=rotate', 'webhook-secret=rotate'])).toThrow('webhook-secret is given twice.');
    expect(() => parseLimitSettings(['webhook-secrets=rotate'])).toThrow(/webhook-secret=rotate/);
  });
});
