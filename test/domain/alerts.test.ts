import { describe, expect, it } from 'vitest';
import {
  alertBasis,
  alertHeadline,
  buildAlertPayload,
  DEFAULT_THRESHOLDS,
  eventKey,
  newlyCrossed,
  parseThresholds,
  projectLimitDate,
  reachedEvents,
  type LimitConfig,
} from '../../src/domain/alerts.js';
import { periodOf } from '../../src/domain/calendar.js';
import { formatCompact, formatCount, formatPercent, formatUsd, microsToDecimal, percentOf } from '../../src/domain/money.js';

const usd = (n: number) => BigInt(Math.round(n * 1_000_000));
const limit = (hard: number | null, soft: number | null, thresholds: readonly number[] = DEFAULT_THRESHOLDS): LimitConfig => ({
  hardMicros: hard === null ? null : usd(hard),
  softMicros: soft === null ? null : usd(soft),
  thresholds,
});
const keys = (events: ReturnType<typeof reachedEvents>) => events.map(eventKey);

describe('money and numbers', () => {
  it('formats micro-dollars as dollars, half-up to the cent', () => {
    expect(formatUsd(1_234_560_000n)).toBe('$1,234.56');
    expect(formatUsd(0n)).toBe('$0.00');
    expect(formatUsd(4_999n)).toBe('<$0.01');
    expect(formatUsd(5_000n)).toBe('$0.01');
    expect(formatUsd(1_994_999n)).toBe('$1.99');
    expect(formatUsd(1_995_000n)).toBe('$2.00');
    expect(formatUsd(-2_500_000n)).toBe('-$2.50');
    expect(formatUsd(1_234_567_890_123_456n)).toBe('$1,234,567,890.12');
    expect(formatUsd(12_000_000)).toBe('$12.00');
  });

  it('writes exact decimals for files', () => {
    expect(microsToDecimal(1_234_560_001n)).toBe('1234.560001');
    expect(microsToDecimal(7n)).toBe('0.000007');
    expect(microsToDecimal(-1_500_000n)).toBe('-1.500000');
  });

  it('groups counts and abbreviates', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(12_345_678_901n)).toBe('12,345,678,901');
    expect(formatCompact(1_234_567)).toBe('1.2M');
    expect(formatCompact(12_300)).toBe('12.3k');
    expect(formatCompact(250_000)).toBe('250k');
    expect(formatCompact(1_000)).toBe('1k');
    expect(formatCompact(42)).toBe('42');
    expect(formatCompact(2.5)).toBe('2.5');
  });

  it('formats percentages and computes them exactly, rounded down', () => {
    expect(formatPercent(0.4567)).toBe('45.7%');
    expect(formatPercent(0.5)).toBe('50%');
    expect(percentOf(usd(49.999), usd(100))).toBe(49.9);
    expect(percentOf(usd(150), usd(100))).toBe(150);
    expect(percentOf(usd(1), 0n)).toBe(0);
  });
});

describe('thresholds', () => {
  it('parses a user list into sorted unique integers', () => {
    expect(parseThresholds('50,75,90,100')).toEqual([50, 75, 90, 100]);
    expect(parseThresholds(' 90%, 50 ,75,50 ')).toEqual([50, 75, 90]);
    expect(parseThresholds('1000,1')).toEqual([1, 1000]);
  });

  it('refuses bad lists with the reason', () => {
    expect(() => parseThresholds('')).toThrow(/thresholds=50,75,90,100/);
    expect(() => parseThresholds('0,50')).toThrow(/"0" must be a whole percentage from 1 to 1000/);
    expect(() => parseThresholds('50,1001')).toThrow(/"1001"/);
    expect(() => parseThresholds('50,7.5')).toThrow(/"7.5"/);
    expect(() => parseThresholds('50,,75')).toThrow(/""/);
    expect(() => parseThresholds('-5')).toThrow(/from 1 to 1000/);
    expect(() => parseThresholds('1,2,3,4,5,6,7,8,9,10,11')).toThrow(/At most 10/);
  });

  it('measures against the hard limit, else the soft one, else nothing', () => {
    expect(alertBasis(limit(100, 80))).toEqual({ kind: 'hard', micros: usd(100) });
    expect(alertBasis(limit(null, 80))).toEqual({ kind: 'soft', micros: usd(80) });
    expect(alertBasis(limit(null, null))).toBeNull();
    expect(reachedEvents(limit(null, null), usd(1e6))).toEqual([]);
  });

  it('reports each threshold reached, exactly at the boundary', () => {
    const l = limit(100, null);
    expect(keys(reachedEvents(l, usd(49.999999)))).toEqual([]);
    expect(keys(reachedEvents(l, usd(50)))).toEqual(['pct:50']);
    expect(keys(reachedEvents(l, usd(95)))).toEqual(['pct:50', 'pct:75', 'pct:90']);
    expect(keys(reachedEvents(l, usd(250)))).toEqual(['pct:50', 'pct:75', 'pct:90', 'pct:100']);
  });

  it('raises the soft limit as its own event next to hard thresholds', () => {
    const l = limit(100, 60);
    expect(keys(reachedEvents(l, usd(59)))).toEqual(['pct:50']);
    expect(keys(reachedEvents(l, usd(60)))).toEqual(['pct:50', 'soft']);
  });

  it('does not announce a soft-only limit twice at 100%', () => {
    expect(keys(reachedEvents(limit(null, 80), usd(80)))).toEqual(['pct:50', 'pct:75', 'pct:90', 'pct:100']);
    expect(keys(reachedEvents(limit(null, 80, [50, 75]), usd(80)))).toEqual(['pct:50', 'pct:75', 'soft']);
  });

  it('finds only what a spend increase newly crossed, even several at once', () => {
    const l = limit(100, 70);
    expect(keys(newlyCrossed(l, usd(10), usd(49)))).toEqual([]);
    expect(keys(newlyCrossed(l, usd(49), usd(91)))).toEqual(['pct:50', 'pct:75', 'pct:90', 'soft']);
    expect(keys(newlyCrossed(l, usd(91), usd(99)))).toEqual([]);
    expect(keys(newlyCrossed(l, usd(99), usd(100)))).toEqual(['pct:100']);
    expect(keys(newlyCrossed(limit(100, null, [120]), usd(100), usd(121)))).toEqual(['pct:120']);
  });
});

describe('projection', () => {
  const nov = periodOf('month', new Date('2026-11-15T00:00:00Z'), 'UTC'); // 30 days

  it('extrapolates the average rate so far', () => {
    // $40 in 10 days → $4/day; $60 left → 15 more days.
    const at = projectLimitDate(usd(40), usd(100), nov, new Date('2026-11-11T00:00:00Z'));
    expect(at?.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    // $30 at the same rate would need until 4 December: after the period, so no date.
    expect(projectLimitDate(usd(30), usd(100), nov, new Date('2026-11-11T00:00:00Z'))).toBeNull();
  });

  it('returns null when the date falls after the period, nothing is spent or the limit is reached', () => {
    expect(projectLimitDate(usd(10), usd(100), nov, new Date('2026-11-11T00:00:00Z'))).toBeNull();
    expect(projectLimitDate(0n, usd(100), nov, new Date('2026-11-11T00:00:00Z'))).toBeNull();
    expect(projectLimitDate(usd(100), usd(100), nov, new Date('2026-11-11T00:00:00Z'))).toBeNull();
    expect(projectLimitDate(usd(10), null, nov, new Date('2026-11-11T00:00:00Z'))).toBeNull();
    expect(projectLimitDate(usd(10), usd(100), nov, new Date('2026-11-01T00:00:00Z'))).toBeNull();
    expect(projectLimitDate(usd(10), usd(100), nov, new Date('2026-12-02T00:00:00Z'))).toBeNull();
  });

  it('dates a fast burn inside the period', () => {
    // $50 in 5 days → $10/day; $50 left → 5 more days.
    expect(projectLimitDate(usd(50), usd(100), nov, new Date('2026-11-06T00:00:00Z'))?.toISOString()).toBe('2026-11-11T00:00:00.000Z');
  });
});

describe('alert payload', () => {
  const period = periodOf('month', new Date('2026-11-06T00:00:00Z'), 'Europe/Berlin');
  const base = {
    id: 'lim_1:2026-11:pct:75',
    scope: { kind: 'project' as const, id: 'prj_1', name: 'web' },
    period,
    limit: limit(100, 60),
    spendMicros: usd(76.5),
    topKeys: [
      { id: 'key_a', name: 'CI', costMicros: usd(10) },
      { id: 'key_b', name: 'Prod', costMicros: usd(60) },
      { id: 'key_c', name: 'Dev', costMicros: usd(6.5) },
    ],
    now: new Date('2026-11-06T00:00:00Z'),
  };

  it('carries everything the alert must say, JSON-safe', () => {
    const p = buildAlertPayload({ ...base, event: { kind: 'threshold', threshold: 75 } }, 2);
    expect(p).toMatchObject({
      version: 1,
      id: 'lim_1:2026-11:pct:75',
      type: 'limit.threshold',
      threshold: 75,
      scope: 'project',
      project: { id: 'prj_1', name: 'web' },
      org: null,
      period: { key: '2026-11', start: '2026-10-31T23:00:00.000Z', end: '2026-11-30T23:00:00.000Z', timeZone: 'Europe/Berlin' },
      spend: { micros: 76_500_000, usd: '$76.50' },
      limit: { micros: 100_000_000, usd: '$100.00', kind: 'hard' },
      hardLimit: { usd: '$100.00' },
      softLimit: { usd: '$60.00' },
      percentage: 76.5,
      createdAt: '2026-11-06T00:00:00.000Z',
    });
    // $76.50 over 5 days + 1 hour → the rest comes ~1.5 days later.
    expect(p.projectedLimitAt?.slice(0, 10)).toBe('2026-11-07');
    expect(p.topKeys.map((k) => k.name)).toEqual(['Prod', 'CI']);
    expect(p.actions.join('\n')).toMatch(/\/limits set web/);
    expect(p.actions.join('\n')).toMatch(/\/keys list web, then \/keys revoke <key-id>/);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
    expect(alertHeadline(p)).toBe('Project web reached 75% of its hard limit: $76.50 of $100.00 (2026-11).');
  });

  it('describes a soft-limit event against the soft limit', () => {
    const p = buildAlertPayload({ ...base, event: { kind: 'soft' } });
    expect(p.type).toBe('limit.soft');
    expect(p.threshold).toBeNull();
    expect(p.limit).toEqual({ micros: 60_000_000, usd: '$60.00', kind: 'soft' });
    expect(p.percentage).toBe(127.5);
    expect(alertHeadline(p)).toBe('Project web passed its soft limit: $76.50 of $60.00 this period (2026-11).');
  });

  it('says requests are refused once the hard limit is reached, and names the org scope', () => {
    const p = buildAlertPayload({
      ...base,
      scope: { kind: 'org', id: 'org_1', name: 'Acme' },
      spendMicros: usd(100),
      event: { kind: 'threshold', threshold: 100 },
    });
    expect(p.project).toBeNull();
    expect(p.org).toEqual({ id: 'org_1', name: 'Acme' });
    expect(p.actions[0]).toMatch(/requests are refused/);
    expect(p.actions.join('\n')).toMatch(/\/limits set org/);
    expect(p.projectedLimitAt).toBeNull();
    expect(alertHeadline(p)).toMatch(/^Org Acme reached 100%/);
  });
});
