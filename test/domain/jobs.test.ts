import { describe, expect, it } from 'vitest';
import {
  claimExpired,
  DEFAULT_ROTATION,
  dueSlot,
  JOBS,
  latestSlot,
  nextSlot,
  parseCron,
  parseRotationDays,
  rotationDue,
  shouldRemind,
  slotKey,
  type RotationCandidate,
} from '../../src/domain/jobs.js';

const at = (iso: string) => new Date(iso);
const latest = (cron: string, now: string, tz: string) => latestSlot(parseCron(cron), at(now), tz)?.toISOString() ?? null;
const next = (cron: string, now: string, tz: string) => nextSlot(parseCron(cron), at(now), tz)?.toISOString() ?? null;

describe('cron parsing', () => {
  it('reads numbers, names, ranges, lists and steps', () => {
    const c = parseCron('*/15 9-17 1,15 JAN-mar mon-FRI');
    expect(c.minutes).toEqual([0, 15, 30, 45]);
    expect(c.hours).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect([...c.days]).toEqual([1, 15]);
    expect([...c.months]).toEqual([1, 2, 3]);
    expect([...c.weekdays].sort()).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron('0 0 * * 7').weekdays]).toEqual([0]);
    expect(parseCron('5/20 * * * *').minutes).toEqual([5, 25, 45]);
    expect(parseCron('0 0 1 1,4,7,10 *').months).toEqual(new Set([1, 4, 7, 10]));
  });

  it('refuses malformed expressions with the field named', () => {
    expect(() => parseCron('0 9 * *')).toThrow(/5 fields/);
    expect(() => parseCron('60 9 * * *')).toThrow(/minute "60"/);
    expect(() => parseCron('0 24 * * *')).toThrow(/hour "24"/);
    expect(() => parseCron('0 9 0 * *')).toThrow(/day "0"/);
    expect(() => parseCron('0 9 * 13 *')).toThrow(/month "13"/);
    expect(() => parseCron('0 9 * * funday')).toThrow(/weekday "funday"/);
    expect(() => parseCron('0 9 5-1 * *')).toThrow(/day "5-1"/);
    expect(() => parseCron('*/0 * * * *')).toThrow(/minute/);
  });
});

describe('slots', () => {
  it('every minute: the current minute, and the next', () => {
    expect(latest('* * * * *', '2026-11-26T10:17:42Z', 'Europe/Berlin')).toBe('2026-11-26T10:17:00.000Z');
    expect(latest('* * * * *', '2026-11-26T10:17:00Z', 'Europe/Berlin')).toBe('2026-11-26T10:17:00.000Z');
    expect(next('* * * * *', '2026-11-26T10:17:00Z', 'Europe/Berlin')).toBe('2026-11-26T10:18:00.000Z');
    expect(next('* * * * *', '2026-11-26T22:59:30Z', 'Europe/Berlin')).toBe('2026-11-26T23:00:00.000Z');
  });

  it('weekly Monday 09:00 in the org zone', () => {
    // Thursday 26 Nov → last Monday 23 Nov 09:00 Berlin = 08:00Z; next 30 Nov.
    expect(latest('0 9 * * 1', '2026-11-26T12:00:00Z', 'Europe/Berlin')).toBe('2026-11-23T08:00:00.000Z');
    expect(next('0 9 * * 1', '2026-11-26T12:00:00Z', 'Europe/Berlin')).toBe('2026-11-30T08:00:00.000Z');
    expect(latest('0 9 * * 1', '2026-11-23T07:59:59Z', 'Europe/Berlin')).toBe('2026-11-16T08:00:00.000Z');
    expect(latest('0 9 * * 1', '2026-11-23T14:00:00Z', 'America/New_York')).toBe('2026-11-23T14:00:00.000Z');
    // Summer time: 09:00 New York = 13:00Z.
    expect(latest('0 9 * * 1', '2026-07-08T00:00:00Z', 'America/New_York')).toBe('2026-07-06T13:00:00.000Z');
  });

  it('daily and monthly at local midnight', () => {
    expect(latest('0 0 * * *', '2026-11-26T12:00:00Z', 'Pacific/Auckland')).toBe('2026-11-26T11:00:00.000Z');
    expect(latest('0 0 1 * *', '2026-11-26T12:00:00Z', 'Europe/Berlin')).toBe('2026-10-31T23:00:00.000Z');
    expect(next('0 0 1 * *', '2026-11-26T12:00:00Z', 'Europe/Berlin')).toBe('2026-11-30T23:00:00.000Z');
    expect(next('0 0 1 * *', '2026-12-15T00:00:00Z', 'UTC')).toBe('2027-01-01T00:00:00.000Z');
  });

  it('quarterly on the first day', () => {
    expect(latest('0 0 1 1,4,7,10 *', '2026-11-26T12:00:00Z', 'UTC')).toBe('2026-10-01T00:00:00.000Z');
    expect(next('0 0 1 1,4,7,10 *', '2026-11-26T12:00:00Z', 'UTC')).toBe('2027-01-01T00:00:00.000Z');
  });

  it('day-of-month OR weekday when both are restricted', () => {
    // The 1st or any Friday: after Mon 2 Nov 2026, the next is Fri 6 Nov.
    expect(next('0 12 1 * 5', '2026-11-02T00:00:00Z', 'UTC')).toBe('2026-11-06T12:00:00.000Z');
    expect(latest('0 12 1 * 5', '2026-11-02T00:00:00Z', 'UTC')).toBe('2026-11-01T12:00:00.000Z');
  });

  it('finds rare dates far away', () => {
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00Z', 'UTC')).toBe('2028-02-29T00:00:00.000Z');
  });

  it('runs a fixed time in a skipped hour once, right after the jump', () => {
    // Berlin 29 Mar 2026: 02:00 → 03:00. 02:30 runs at 03:30 CEST = 01:30Z.
    expect(next('30 2 * * *', '2026-03-29T00:00:00Z', 'Europe/Berlin')).toBe('2026-03-29T01:30:00.000Z');
    expect(next('30 2 * * *', '2026-03-29T01:30:00Z', 'Europe/Berlin')).toBe('2026-03-30T00:30:00.000Z');
    // New York 8 Mar 2026: 02:00 → 03:00.
    expect(next('30 2 * * *', '2026-03-08T06:00:00Z', 'America/New_York')).toBe('2026-03-08T07:30:00.000Z');
  });

  it('runs a fixed time in a repeated hour once (first pass)', () => {
    // New York 1 Nov 2026: 02:00 EDT → 01:00 EST; 01:30 happens at 05:30Z and 06:30Z.
    expect(next('30 1 * * *', '2026-11-01T04:00:00Z', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
    expect(next('30 1 * * *', '2026-11-01T05:30:00Z', 'America/New_York')).toBe('2026-11-02T06:30:00.000Z');
    expect(latest('30 1 * * *', '2026-11-01T07:00:00Z', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
  });

  it('keeps every-minute jobs ticking through both passes and the gap', () => {
    // Berlin 25 Oct 2026, second 02:30 (CET) = 01:30Z: a slot of its own.
    expect(latest('* * * * *', '2026-10-25T01:30:20Z', 'Europe/Berlin')).toBe('2026-10-25T01:30:00.000Z');
    expect(next('* * * * *', '2026-10-25T00:59:00Z', 'Europe/Berlin')).toBe('2026-10-25T01:00:00.000Z');
    // Spring: 01:59 CET (00:59Z) is followed by 03:00 CEST (01:00Z), no invented slot.
    expect(next('* * * * *', '2026-03-29T00:59:00Z', 'Europe/Berlin')).toBe('2026-03-29T01:00:00.000Z');
    expect(next('0 * * * *', '2026-03-29T00:30:00Z', 'Europe/Berlin')).toBe('2026-03-29T01:00:00.000Z');
    expect(next('0 * * * *', '2026-10-25T00:30:00Z', 'Europe/Berlin')).toBe('2026-10-25T01:00:00.000Z');
  });

  it('is fast enough for a tick every minute', () => {
    const c = parseCron('* * * * *');
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) latestSlot(c, new Date(Date.UTC(2026, 10, 26, 0, i)), 'Europe/Berlin');
    expect((performance.now() - t0) / 200).toBeLessThan(5);
  });
});

describe('due slots and claims', () => {
  const tz = 'Europe/Berlin';

  it('catches up the latest missed slot once, not every missed one', () => {
    // Down from Sunday to Thursday: Monday's digest runs once on start-up.
    expect(dueSlot(JOBS.digest, at('2026-11-26T12:00:00Z'), tz, at('2026-11-16T08:00:00Z'))?.toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(dueSlot(JOBS.digest, at('2026-11-26T12:00:00Z'), tz, at('2026-11-23T08:00:00Z'))).toBeNull();
    expect(dueSlot(JOBS.digest, at('2026-11-26T12:00:00Z'), tz, null)?.toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(dueSlot(JOBS.statement, at('2026-11-26T12:00:00Z'), tz, null)?.toISOString()).toBe('2026-10-31T23:00:00.000Z');
  });

  it('does not replay stale slots of jobs without catch-up', () => {
    expect(dueSlot(JOBS.alerts, at('2026-11-26T12:00:30Z'), tz, at('2026-11-26T11:59:00Z'))?.toISOString()).toBe('2026-11-26T12:00:00.000Z');
    expect(dueSlot(JOBS.alerts, at('2026-11-26T12:00:30Z'), tz, at('2026-11-26T12:00:00Z'))).toBeNull();
    expect(dueSlot({ ...JOBS.alerts, cron: '0 * * * *' }, at('2026-11-26T12:30:00Z'), tz, null)).toBeNull();
  });

  it('names claims by job and slot, and expires stuck claims', () => {
    expect(slotKey('digest', at('2026-11-23T08:00:00Z'))).toBe('digest@2026-11-23T08:00:00.000Z');
    expect(claimExpired(JOBS.digest, at('2026-11-23T08:00:00Z'), at('2026-11-23T08:30:00Z'))).toBe(false);
    expect(claimExpired(JOBS.digest, at('2026-11-23T08:00:00Z'), at('2026-11-23T08:30:01Z'))).toBe(true);
  });

  it('has valid cron expressions for every job', () => {
    for (const job of Object.values(JOBS)) expect(() => parseCron(job.cron), job.name).not.toThrow();
  });
});

describe('rotation reminders', () => {
  const now = at('2026-11-26T12:00:00Z');
  const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);
  const key = (over: Partial<RotationCandidate> = {}): RotationCandidate => ({
    id: 'key_1',
    status: 'active',
    createdAt: daysAgo(10),
    rotatedAt: null,
    expiresAt: null,
    ...over,
  });

  it('flags keys at or past the maximum age, counted from the last rotation', () => {
    expect(rotationDue(key({ createdAt: daysAgo(89) }), now)).toBeNull();
    expect(rotationDue(key({ createdAt: daysAgo(90) }), now)).toEqual({ reason: 'old', ageDays: 90 });
    expect(rotationDue(key({ createdAt: daysAgo(200), rotatedAt: daysAgo(5) }), now)).toBeNull();
    expect(rotationDue(key({ createdAt: daysAgo(31) }), now, { ...DEFAULT_ROTATION, maxAgeDays: 30 })).toEqual({ reason: 'old', ageDays: 31 });
  });

  it('flags keys expiring within 14 days, not expired or inactive ones', () => {
    expect(rotationDue(key({ expiresAt: daysAgo(-14) }), now)).toEqual({ reason: 'expiring', expiresInDays: 14, ageDays: 10 });
    expect(rotationDue(key({ expiresAt: daysAgo(-15) }), now)).toBeNull();
    expect(rotationDue(key({ expiresAt: daysAgo(-0.5) }), now)).toEqual({ reason: 'expiring', expiresInDays: 1, ageDays: 10 });
    expect(rotationDue(key({ expiresAt: daysAgo(1), createdAt: daysAgo(100) }), now)).toBeNull();
    expect(rotationDue(key({ status: 'revoked', createdAt: daysAgo(100) }), now)).toBeNull();
  });

  it('reminds at most once a week per key', () => {
    const old = { createdAt: daysAgo(120) };
    expect(shouldRemind(key({ ...old, lastRemindedAt: null }), now)?.reason).toBe('old');
    expect(shouldRemind(key({ ...old, lastRemindedAt: daysAgo(6.9) }), now)).toBeNull();
    expect(shouldRemind(key({ ...old, lastRemindedAt: daysAgo(7) }), now)?.reason).toBe('old');
  });

  it('parses the configurable age', () => {
    expect(parseRotationDays('90')).toBe(90);
    expect(parseRotationDays('30d')).toBe(30);
    expect(() => parseRotationDays('0')).toThrow(/from 1 to 3650/);
    expect(() => parseRotationDays('ninety')).toThrow(/"ninety"/);
  });
});
