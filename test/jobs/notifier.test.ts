import { WebClient } from '@slack/web-api';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { periodOf } from '../../src/domain/calendar.js';
import { emptyUsage } from '../../src/domain/usage.js';
import { runAlerts } from '../../src/jobs/alerts.js';
import { NotifyError, WebClientNotifier } from '../../src/services/notifier.js';
import { usageTotals } from '../../src/services/reports.js';
import { UsageWriter } from '../../src/services/usage.js';
import { jobWorld, MODEL, seedProject, TZ } from './world.js';

const API = 'https://slack-notifier.test';
const w = jobWorld();
afterEach(() => nock.cleanAll());

const client = () => new WebClient('xoxb-test', { slackApiUrl: `${API}/api/`, retryConfig: { retries: 0 }, timeout: 2_000 });

describe('WebClientNotifier', () => {
  it('maps Slack refusals and rate limits to NotifyError codes', async () => {
    nock(API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'not_in_channel' });
    await expect(new WebClientNotifier(client()).post('C1', { text: 'hi' })).rejects.toMatchObject({ code: 'not_in_channel' });
    nock(API).post('/api/chat.postMessage').reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '7' });
    const c = new WebClient('xoxb-test', { slackApiUrl: `${API}/api/`, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    const e = await new WebClientNotifier(c).post('C1', { text: 'hi' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotifyError);
    expect([(e as NotifyError).code, (e as NotifyError).retryAfterMs]).toEqual(['ratelimited', 7000]);
  });

  it('a channel Slack refuses fails the destination, keeps the alert record and tells the Admins by DM', async () => {
    const { project } = await seedProject(w, 'live', 'CLIVE');
    await w.s.limits.set(w.user('UBOSS', true), 'live', ['hard=10', 'thresholds=50']);
    await w.spend(project.id, 6_000_000n, new Date('2026-11-26T10:00:00Z'));
    const posts: Array<Record<string, string>> = [];
    nock(API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'channel_not_found' });
    nock(API).post('/api/conversations.open').times(10).reply(200, { ok: true, channel: { id: 'DADMIN' } });
    nock(API).post('/api/chat.postMessage').times(10).reply(200, (_u, body) => {
      posts.push(Object.fromEntries(new URLSearchParams(String(body))));
      return { ok: true, channel: 'C', ts: '1.1' };
    });
    const deps = w.deps({ notifier: new WebClientNotifier(client()) as never });
    await expect(runAlerts(new Date('2026-11-26T10:00:00Z'), deps)).resolves.toBeDefined();
    const row = await w.db.alert.findFirstOrThrow({ where: { projectId: project.id } });
    expect([row.channelStatus, row.lastError]).toEqual(['failed', 'channel: channel_not_found']);
    // Admins (UADM, UBOSS) were told once, by DM.
    expect(posts).toHaveLength(2);
    for (const p of posts) {
      expect(p.channel).toBe('DADMIN');
      expect(p.text).toBe(`keyward could not deliver alert ${row.id} to <#CLIVE>. <#CLIVE> no longer exists or is archived: pick another channel with /limits set … channel=#channel.`);
    }
    const blocks = JSON.parse(posts[0]!.blocks!);
    expect(blocks[0].text.text).toContain('<#CLIVE> no longer exists or is archived');
  });
});

describe('usage writer rollups', () => {
  it('fills the error split, latency sum and histogram that /usage reads', async () => {
    const { project, key } = await seedProject(w, 'roll', null);
    const writer = new UsageWriter(w.db, TZ, createLogger('silent'), null);
    const at = new Date('2026-11-26T10:00:00Z');
    const base = { orgId: w.orgId, projectId: project.id, keyId: key.id, model: MODEL, stream: false, usage: { ...emptyUsage(), input: 10, output: 5 }, costMicros: 100, overheadUs: 1, at, period: '2026-11' };
    const statuses: Array<[number, string | null, number]> = [[200, null, 80], [200, null, 120], [401, 'authentication', 5], [403, 'permission', 5], [429, 'rate_limit', 5], [502, 'upstream_unreachable', 900], [400, 'invalid_request', 20], [200, null, 4000]];
    for (const [status, errorClass, latencyMs] of statuses) writer.push({ ...base, status, errorClass, latencyMs });
    await writer.flush();
    const t = await usageTotals(w.db, { projectIds: [project.id] }, periodOf('month', at, TZ));
    expect(t.requests).toBe(8);
    expect(t.errors).toEqual({ unauthorized: 1, forbidden: 1, rateLimited: 1, server: 1, other: 1 });
    expect(t.latencyAvgMs).toBe((80 + 120 + 5 + 5 + 5 + 900 + 20 + 4000) / 8);
    expect(t.latencyP95Ms).toBe(5000); // the bucket holding the 8th of 8 requests (4 s → ≤ 5 s)
  });
});
