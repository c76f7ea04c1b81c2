import { describe, expect, it } from 'vitest';
import { HOUR } from '../../src/domain/durations.js';
import { monthPeriod } from '../../src/domain/periods.js';
import { orgLimitId, projectLimitId } from '../../src/services/limits.js';
import { usingPostgres } from '../helpers/db.js';
import { rejects, seedProject, serviceWorld } from './setup.js';

const w = serviceWorld();
let team: Awaited<ReturnType<typeof seedProject>>;
let seq = 0;

/** A usage event of `keyId` at `agoMs` before the clock. */
function event(projectId: string, keyId: string, status: number, errorClass: string | null, agoMs: number) {
  return w.db.usageEvent.create({
    data: {
      id: `use_t${++seq}`, orgId: w.orgId, projectId, keyId, model: 'claude-sonnet-4-5', status, errorClass,
      createdAt: new Date(w.clock.getTime() - agoMs),
    },
  });
}

const report = async (actor: Parameters<typeof w.s.keyCheck.check>[0], ref: string) => {
  const r = await w.s.keyCheck.check(actor, ref);
  if (r.kind !== 'report') throw new Error(`expected a report, got ${r.kind}`);
  return r.report;
};

describe(`keys check (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  it('reports status, scope and endpoints, environment, expiry, project limits with spend and reset, and per-key rpm', async () => {
    team = await seedProject(w, 'app');
    const { key } = await w.s.keys.create(team.dev, { project: 'app', name: 'Worker', environment: 'staging', rpm: 30, expiresInMs: 10 * 24 * HOUR });
    await w.s.limits.set(team.boss, 'app', ['hard=100', 'soft=50', 'rpm=600']);
    await w.s.limits.set(team.boss, 'org', ['hard=1000']);
    const period = monthPeriod(w.clock, 'UTC');
    await w.db.budget.create({ data: { limitId: projectLimitId(key.projectId), period: period.key, spentMicros: 12_500_000n, updatedAt: w.clock } });
    await w.db.budget.create({ data: { limitId: orgLimitId(w.orgId), period: period.key, spentMicros: 40_000_000n, updatedAt: w.clock } });

    const r = await report(team.viewer, key.id);
    expect(r.status).toBe('active');
    expect(r.key).toMatchObject({ id: key.id, scope: 'inference', environment: 'staging', rpm: 30, projectName: 'app' });
    expect(r.key.expiresAt).toEqual(key.expiresAt);
    expect(r.endpoints).toEqual(['POST /v1/messages', 'POST /v1/messages/count_tokens', 'GET /v1/models', 'GET /v1/models/{id}']);
    expect(r.limits.project).toMatchObject({ hardMicros: 100_000_000n, softMicros: 50_000_000n, rpm: 600, spentMicros: 12_500_000n, usedFraction: 0.125 });
    expect(r.period.resetsAt).toEqual(period.end);
    expect(r.period.resetsAtText).toBe('2026-12-01T00:00:00+00:00');
    // Org-wide figures only for org admins.
    expect(r.limits.org).toBeNull();
    const boss = await report(team.boss, key.id);
    expect(boss.limits.org).toMatchObject({ hardMicros: 1_000_000_000n, spentMicros: 40_000_000n });
    expect(r.refusals.lastDay).toEqual({ unauthorized: 0, forbidden: 0, rateLimited: 0, spendLimit: 0 });
    expect(r.refusals.last).toBeNull();
    expect(r.advice).toContain('No refusals recorded');
  });

  it('counts 401, 403, 429 and spend-limit answers of the last hour and day, with the last one', async () => {
    const { key } = await w.s.keys.create(team.dev, { project: 'app', name: 'Busy' });
    const { key: other } = await w.s.keys.create(team.dev, { project: 'app', name: 'Other' });
    const p = key.projectId;
    await event(p, key.id, 429, 'rate_limit', 5 * 60_000);
    await event(p, key.id, 429, 'rate_limit', 2 * 60_000);
    await event(p, key.id, 429, 'rate_limit', 3 * HOUR);
    await event(p, key.id, 400, 'spend_limit', 20 * 60_000);
    await event(p, key.id, 403, 'permission', 30 * 60_000);
    await event(p, key.id, 401, 'authentication', 5 * HOUR);
    // Not counted: older than a day, not a refusal, another key's.
    await event(p, key.id, 429, 'rate_limit', 25 * HOUR);
    await event(p, key.id, 200, null, 60_000);
    await event(p, key.id, 500, 'upstream_5xx', 60_000);
    await event(p, key.id, 400, 'invalid_request', 60_000);
    await event(p, other.id, 429, 'rate_limit', 60_000);

    const r = await report(team.dev, key.id);
    expect(r.refusals.lastHour).toEqual({ unauthorized: 0, forbidden: 1, rateLimited: 2, spendLimit: 1 });
    expect(r.refusals.lastDay).toEqual({ unauthorized: 1, forbidden: 1, rateLimited: 3, spendLimit: 1 });
    expect(r.refusals.last).toMatchObject({ status: 429, errorClass: 'rate_limit', reason: 'rate limit' });
    expect(r.refusals.last!.at).toEqual(new Date(w.clock.getTime() - 2 * 60_000));
    expect(r.advice).toMatch(/^Rate limited: wait/);
    expect(r.advice).toContain('/limits set app');
  });

  it('revoked: when, by whom and why; expired: past its expiry even before the job marks it', async () => {
    const { key } = await w.s.keys.create(team.dev, { project: 'app', name: 'Gone' });
    await w.s.keys.revoke(team.admin, key.id, 'leaked in a log');
    await event(key.projectId, key.id, 401, 'key_inactive', 60_000);
    const r = await report(team.viewer, key.id);
    expect(r.status).toBe('revoked');
    expect(r.key).toMatchObject({ revokedBy: 'slack:UADM', revokeReason: 'leaked in a log' });
    expect(r.key.revokedAt).toEqual(w.clock);
    expect(r.refusals.last).toMatchObject({ status: 401, reason: 'key revoked' });
    expect(r.advice).toContain('create a new key');

    const { key: short } = await w.s.keys.create(team.dev, { project: 'app', name: 'Short', expiresInMs: HOUR });
    w.advance(2 * HOUR);
    const e = await report(team.dev, short.id);
    expect(e.status).toBe('expired');
    expect(e.advice).toContain('Expired keys cannot be extended');
  });

  it('finds a key by the last 4 characters of its current or rotated-out secret; grace is shown', async () => {
    const created = await w.s.keys.create(team.dev, { project: 'app', name: 'Rotating' });
    const oldLast4 = created.secret.slice(-4);
    const { secret } = await w.s.keys.rotate(team.dev, created.key.id, 2 * HOUR);
    const current = await report(team.viewer, secret.slice(-4));
    expect(current.key.id).toBe(created.key.id);
    expect(current.matchedPrevious).toBe(false);
    expect(current.graceUntil).toEqual(new Date(w.clock.getTime() + 2 * HOUR));
    const previous = await report(team.viewer, `sk-kw-…${oldLast4}`);
    expect(previous.key.id).toBe(created.key.id);
    expect(previous.matchedPrevious).toBe(true);
    expect(previous.advice).toContain('replaced by a rotation');
  });

  it('several visible keys with those 4 characters: lists them to pick by id; each person sees only theirs', async () => {
    await seedProject(w, 'side', { admin: 'USIDEADM', dev: 'USIDEDEV', viewer: 'USIDEVIEW' });
    const a = await w.s.keys.create(team.dev, { project: 'app', name: 'Twin A' });
    const b = await w.s.keys.create(w.user('USIDEDEV'), { project: 'side', name: 'Twin B' });
    const last4 = a.secret.slice(-4);
    await w.db.apiKey.update({ where: { id: b.key.id }, data: { hint: `sk-kw-…${last4}` } });
    // Same letters, other case: a different secret.
    const flipped = last4.replace(/[a-z]/i, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));

    const both = await w.s.keyCheck.check(team.boss, last4);
    expect(both.kind).toBe('ambiguous');
    if (both.kind !== 'ambiguous') return;
    expect(both.candidates.map((c) => c.id).sort()).toEqual([a.key.id, b.key.id].sort());
    expect(both.candidates.find((c) => c.id === b.key.id)).toMatchObject({ projectName: 'side', name: 'Twin B', status: 'active' });

    expect((await report(team.viewer, last4)).key.id).toBe(a.key.id);
    expect((await report(w.user('USIDEVIEW'), last4)).key.id).toBe(b.key.id);
    if (flipped !== last4) await rejects(w.s.keyCheck.check(team.boss, flipped), 'not_found');
  });

  it('outsiders get the same "not found" as for a key that does not exist (no oracle)', async () => {
    const { key, secret } = await w.s.keys.create(team.dev, { project: 'app', name: 'Private' });
    const outsider = w.user('UOUTSIDER');
    const missingId = `key_${'Z'.repeat(16)}`;
    const byId = await rejects(w.s.keyCheck.check(outsider, key.id), 'not_found');
    const noSuchId = await rejects(w.s.keyCheck.check(outsider, missingId), 'not_found');
    expect(byId.message.replace(key.id, 'ID')).toBe(noSuchId.message.replace(missingId, 'ID'));
    const byHint = await rejects(w.s.keyCheck.check(outsider, secret.slice(-4)), 'not_found');
    const noSuchHint = await rejects(w.s.keyCheck.check(outsider, '0000'), 'not_found');
    expect(byHint.message.replace(secret.slice(-4), 'XXXX')).toBe(noSuchHint.message.replace('0000', 'XXXX'));
  });

  it('refuses whole secrets (without echoing them) and references that are neither id nor hint', async () => {
    const { secret } = await w.s.keys.create(team.dev, { project: 'app', name: 'Pasted' });
    const pasted = await rejects(w.s.keyCheck.check(team.dev, secret), 'invalid');
    expect(pasted.message).toContain('Do not paste secrets');
    expect(pasted.message).not.toContain(secret.slice(6, 20));
    const bad = await rejects(w.s.keyCheck.check(team.dev, 'abc'), 'invalid');
    expect(bad.message).toContain('neither a key id');
  });
});
