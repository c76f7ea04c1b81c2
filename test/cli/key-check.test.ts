import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { cliFor, snapshot, START, type Run } from './helpers.js';

describe(`keyward keys check (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let cli: (...args: string[]) => Promise<Run>;
  let key: { id: string; secret: string; projectId: string };
  let seq = 0;
  // A fixed clock: the seeded refusals stay inside the last hour.
  const now = new Date(START.getTime() + 3_600_000);

  beforeAll(async () => {
    t = await freshDatabase();
    cli = cliFor(t, { now: () => now });
    expect((await cli('projects', 'create', 'alpha')).code).toBe(0);
    const created = (await cli('keys', 'create', 'alpha', 'Worker', '--rpm', '30', '--env', 'staging', '--json')).json();
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { id: created.key.id } });
    key = { id: row.id, secret: created.secret, projectId: row.projectId };
    expect((await cli('limits', 'set', 'alpha', 'hard=100', 'rpm=600')).code).toBe(0);
  });
  afterAll(async () => t?.drop());

  const seed = async (status: number, errorClass: string, agoMs: number) => {
    const { orgId } = await t.db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    await t.db.usageEvent.create({
      data: { id: `use_c${++seq}`, orgId, projectId: key.projectId, keyId: key.id, model: 'claude-sonnet-4-5', status, errorClass, createdAt: new Date(now.getTime() - agoMs) },
    });
  };

  it('prints status, scope and endpoints, limits, refusals and what to do; changes nothing', async () => {
    await seed(429, 'rate_limit', 60_000);
    await seed(429, 'rate_limit', 3 * 3_600_000);
    await seed(400, 'spend_limit', 10 * 3_600_000);
    const before = await snapshot(t);
    const r = await cli('keys', 'check', key.id);
    expect(r.code).toBe(0);
    for (const s of [
      `${key.id} "Worker" in alpha`, 'status:', 'active', 'environment:', 'staging', 'inference: POST /v1/messages',
      '30 requests/min', '$0.00 of $100.00 (0 %); 600 rpm; resets 2026-12-01 00:00 UTC', 'org 2026-11:',
      'refused 1 h:', '401 ×0 · 403 ×0 · 429 ×1 · spend limit ×0',
      '401 ×0 · 403 ×0 · 429 ×2 · spend limit ×1; last 2026-11-26 10:59 UTC: 429 (rate limit)',
      'What to do: Rate limited', '`keyward limits set alpha`',
    ]) expect(r.out).toContain(s);
    expect(await snapshot(t)).toEqual(before);
  });

  it('--json: stable field names', async () => {
    const j = (await cli('keys', 'check', key.secret.slice(-4), '--json')).json();
    expect(j).toMatchObject({
      ambiguous: false, status: 'active', graceUntil: null, matchedPreviousSecret: false,
      key: { id: key.id, name: 'Worker', project: 'alpha', scope: 'inference', environment: 'staging', rpm: 30 },
      endpoints: ['POST /v1/messages', 'POST /v1/messages/count_tokens', 'GET /v1/models', 'GET /v1/models/{id}'],
      period: '2026-11', resetsAt: '2026-12-01T00:00:00+00:00',
      limits: { project: { hard: { micros: 100_000_000, usd: '$100.00' }, spent: { micros: 0 }, rpm: 600 }, org: { hard: null } },
      refusals: {
        lastHour: { unauthorized: 0, forbidden: 0, rateLimited: 1, spendLimit: 0 },
        lastDay: { unauthorized: 0, forbidden: 0, rateLimited: 2, spendLimit: 1 },
        last: { at: new Date(now.getTime() - 60_000).toISOString(), status: 429, errorClass: 'rate_limit', reason: 'rate limit' },
      },
    });
    expect(j.advice).toContain('keyward limits set alpha');
  });

  it('a revoked key: when, by whom and why', async () => {
    const gone = (await cli('keys', 'create', 'alpha', 'Gone', '--json')).json();
    await cli('keys', 'revoke', gone.key.id, '--reason', 'leaked in a log');
    const r = await cli('keys', 'check', gone.key.id);
    expect(r.out).toContain('revoked 2026-11-26 11:00 UTC by cli:alice: leaked in a log');
    expect(r.out).toContain('What to do: Revoked keys cannot be restored: create a new key (`keyward keys create`)');
  });

  it('several keys with those 4 characters: lists them and exits 1; unknown keys: not found, exit 1', async () => {
    const twin = (await cli('keys', 'create', 'alpha', 'Twin', '--json')).json();
    await t.db.apiKey.update({ where: { id: twin.key.id }, data: { hint: `sk-kw-…${key.secret.slice(-4)}` } });
    const r = await cli('keys', 'check', key.secret.slice(-4));
    expect(r.code).toBe(1);
    expect(r.out).toContain('Pick one by id');
    expect(r.out).toContain(key.id);
    expect(r.out).toContain(twin.key.id);
    const j = (await cli('keys', 'check', key.secret.slice(-4), '--json')).json();
    expect(j.ambiguous).toBe(true);
    expect(j.candidates.map((c: { id: string }) => c.id).sort()).toEqual([key.id, twin.key.id].sort());
    expect(Object.keys(j.candidates[0]).sort()).toEqual(['hint', 'id', 'matchedPreviousSecret', 'name', 'project', 'status']);

    const missing = await cli('keys', 'check', `key_${'Q'.repeat(16)}`);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('No key');
  });

  it('usage errors exit 2 before anything opens; a pasted secret is not echoed', async () => {
    const pasted = await cli('keys', 'check', key.secret);
    expect(pasted.code).toBe(2);
    expect(pasted.err).toContain('Do not paste secrets');
    expect(pasted.err + pasted.out).not.toContain(key.secret);
    expect((await cli('keys', 'check')).code).toBe(2);
    expect((await cli('keys', 'check', 'abc')).err).toContain('neither a key id');
    expect((await cli('help', 'keys')).out).toContain('keyward keys check <key-id | last 4 characters of the secret>');
  });
});
