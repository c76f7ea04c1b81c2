import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { cliFor, type Run } from './helpers.js';

let t: TestDatabase;
let cli: (...args: string[]) => Promise<Run>;
beforeAll(async () => {
  t = await freshDatabase();
  cli = cliFor(t, { env: { KEYWARD_TIMEZONE: 'UTC' } });
  expect((await cli('projects', 'create', 'web')).code).toBe(0);
});
afterAll(async () => t?.drop());

describe('keyward limits', () => {
  it('sets soft, thresholds, notify and webhook, validates them, and shows them', async () => {
    const set = await cli('limits', 'set', 'web', 'hard=100', 'soft=80', 'thresholds=50,90', 'notify=channel,webhook', 'webhook=https://hooks.example.com/a/SECRET', 'channel=C0123ABC', '--json');
    expect(set.code).toBe(0);
    expect(set.json().limits).toMatchObject({
      hard: { usd: '$100.00' }, soft: { usd: '$80.00' }, thresholds: [50, 90], notify: ['channel', 'webhook'], channelId: 'C0123ABC',
      webhook: 'https://hooks.example.com/…',
    });
    const bad = await cli('limits', 'set', 'web', 'webhook=http://insecure.example.com');
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('only https')]);
    const badT = await cli('limits', 'set', 'web', 'thresholds=0,50');
    expect([badT.code, badT.err]).toEqual([2, expect.stringContaining('from 1 to 1000')]);
    const show = await cli('limits', 'show', 'web');
    expect(show.out).toContain('soft limit   $80.00 per month');
    expect(show.out).toContain('thresholds   50%, 90%');
    // The webhook's path (often a token) never reaches the audit log.
    const audit = await t.db.auditEvent.findFirstOrThrow({ where: { action: 'limits.set' } });
    expect(audit.details).not.toContain('SECRET');
  });
});

describe('keyward limits: webhook secret and targets', () => {
  it('shows the webhook secret, rotates it with webhook-secret=rotate, and refuses private targets', async () => {
    const before = (await cli('limits', 'show', 'web', '--json')).json().limits.webhookSigningSecret as string;
    expect(before).toMatch(/^whsec_/);
    const rotated = await cli('limits', 'set', 'web', 'webhook-secret=rotate');
    expect(rotated.code).toBe(0);
    const after = /signing key {2}(whsec_\S+)/.exec(rotated.out)?.[1];
    expect(after).toMatch(/^whsec_/);
    expect(after).not.toBe(before);
    expect(await t.db.auditEvent.count({ where: { action: 'limits.webhook_secret_rotated', actor: { startsWith: 'cli:' } } })).toBe(1);
    const internal = await cli('limits', 'set', 'web', 'webhook=https://169.254.169.254/latest/meta-data');
    expect(internal.code).not.toBe(0);
    expect(internal.err).toContain('webhook: 169.254.169.254 is a private or reserved address');
    expect((await cli('limits', 'show', 'web', '--json')).json().limits.webhook).toBe('https://hooks.example.com/…');
  });
});

describe('keyward usage and run', () => {
  it('reports usage from the rollups with --json and prints a statement CSV', async () => {
    const project = await t.db.project.findFirstOrThrow({ where: { name: 'web' } });
    await t.db.usageDaily.create({
      data: { day: '2026-11-20', keyId: 'key_x', model: 'claude-sonnet-4-6', orgId: project.orgId, projectId: project.id, requests: 10, errors: 2, err429: 1, err5xx: 1, inputTokens: 1000n, outputTokens: 500n, costMicros: 2_500_000n, latencyMsSum: 5000n },
    });
    const r = await cli('usage', 'show', 'web', 'month', '--json');
    expect(r.code).toBe(0);
    expect(r.json().reports[0]).toMatchObject({
      name: 'web', period: '2026-11',
      current: { requests: 10, costUsd: '$2.50', latencyAvgMs: 500, errors: { rateLimited: 1, server: 1, unauthorized: 0 } },
    });
    const csv = await cli('usage', 'statement', 'web', '2026-11');
    expect(csv.out.split('\r\n')[1]).toBe('2026-11,web,key_x,,claude-sonnet-4-6,10,1000,500,0,0,2.500000');
  });

  it('runs a job as a dry run without sending or recording anything', async () => {
    // Its own database: SQLite in this process sometimes reports a disk I/O error when a test
    // connection and many CLI connections interleave writes on one file.
    const own = await freshDatabase();
    const t = own;
    const cli = cliFor(own, { env: { KEYWARD_TIMEZONE: 'UTC' } });
    await cli('projects', 'create', 'web');
    await cli('limits', 'set', 'web', 'hard=4', 'notify=channel');
    const project = await t.db.project.findFirstOrThrow({ where: { name: 'web' } });
    await t.db.budget.create({ data: { limitId: `prj:${project.id}`, period: '2026-11', spentMicros: 2_500_000n, updatedAt: new Date() } });
    const before = await t.db.alert.count();
    const r = await cli('run', 'alerts', '--dry-run', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.json().lines).toEqual([expect.stringMatching(/^would alert prj:.*:2026-11:pct:50: 62\.5% \(\$2\.50 of \$4\.00\) → channel$/)]);
    expect(await t.db.alert.count()).toBe(before);
    expect((await cli('run', 'nope')).code).toBe(2);
    await own.drop();
  });
});
