import { describe, expect, it } from 'vitest';
import {
  daysOf,
  elapsedFraction,
  instantsOf,
  isoWeek,
  isTimeZone,
  localParts,
  nextPeriod,
  offsetAt,
  parsePeriodKey,
  parsePeriodKind,
  periodOf,
  previousPeriod,
  zonedTime,
  type PeriodKind,
} from '../../src/domain/calendar.js';

const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();
const span = (kind: PeriodKind, instant: string, tz: string) => {
  const p = periodOf(kind, at(instant), tz);
  return [p.key, iso(p.start), iso(p.end)];
};

describe('wall time ↔ instant', () => {
  it('reads the wall clock and the offset of a zone', () => {
    expect(localParts(at('2026-11-26T23:30:00Z'), 'Europe/Berlin')).toEqual({ year: 2026, month: 11, day: 27, hour: 0, minute: 30, second: 0 });
    expect(offsetAt(Date.parse('2026-07-01T00:00:00Z'), 'Europe/Berlin')).toBe(2 * 3600_000);
    expect(offsetAt(Date.parse('2026-07-01T00:00:00Z'), 'America/New_York')).toBe(-4 * 3600_000);
    expect(offsetAt(Date.parse('2026-07-01T00:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * 3600_000);
  });

  it('finds no instant in a spring-forward gap and two in a fall-back overlap', () => {
    // Berlin: 2026-03-29 02:00 → 03:00; 2026-10-25 03:00 → 02:00.
    expect(instantsOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin')).toEqual([]);
    expect(instantsOf({ year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin').map(iso)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
  });

  it('resolves a gap forward and an overlap to the earlier instant', () => {
    expect(iso(zonedTime({ year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z');
    expect(iso(zonedTime({ year: 2026, month: 11, day: 1, hour: 1, minute: 30, second: 0 }, 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
  });

  it('tells valid zones from invalid ones', () => {
    expect(isTimeZone('Pacific/Auckland')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('periods', () => {
  it('cuts months at local midnight', () => {
    expect(span('month', '2026-11-26T12:00:00Z', 'UTC')).toEqual(['2026-11', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    expect(span('month', '2026-11-26T12:00:00Z', 'Europe/Berlin')).toEqual(['2026-11', '2026-10-31T23:00:00.000Z', '2026-11-30T23:00:00.000Z']);
    // 23:30 UTC on 30 Nov is already December in Berlin, still November in New York.
    expect(span('month', '2026-11-30T23:30:00Z', 'Europe/Berlin')[0]).toBe('2026-12');
    expect(span('month', '2026-11-30T23:30:00Z', 'America/New_York')[0]).toBe('2026-11');
    expect(span('month', '2026-12-01T04:59:59Z', 'America/New_York')[0]).toBe('2026-11');
    expect(span('month', '2026-12-01T05:00:00Z', 'America/New_York')[0]).toBe('2026-12');
  });

  it('gives months that contain a DST change their true length', () => {
    // Berlin March 2026 loses an hour, October gains one.
    const march = periodOf('month', at('2026-03-15T00:00:00Z'), 'Europe/Berlin');
    expect([iso(march.start), iso(march.end)]).toEqual(['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z']);
    expect(march.end.getTime() - march.start.getTime()).toBe((31 * 24 - 1) * 3600_000);
    const oct = periodOf('month', at('2026-10-15T00:00:00Z'), 'Europe/Berlin');
    expect(oct.end.getTime() - oct.start.getTime()).toBe((31 * 24 + 1) * 3600_000);
    const nov = periodOf('month', at('2026-11-15T00:00:00Z'), 'America/New_York');
    expect([iso(nov.start), iso(nov.end)]).toEqual(['2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z']);
  });

  it('gives DST days 23 and 25 hours', () => {
    const spring = periodOf('day', at('2026-03-08T12:00:00Z'), 'America/New_York');
    expect(spring.key).toBe('2026-03-08');
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * 3600_000);
    const fall = periodOf('day', at('2026-10-25T12:00:00Z'), 'Europe/Berlin');
    expect(fall.end.getTime() - fall.start.getTime()).toBe(25 * 3600_000);
  });

  it('handles the southern hemisphere (Auckland: DST ends in April, starts in September)', () => {
    expect(span('month', '2026-03-31T12:00:00Z', 'Pacific/Auckland')).toEqual(['2026-04', '2026-03-31T11:00:00.000Z', '2026-04-30T12:00:00.000Z']);
    const april = periodOf('month', at('2026-04-10T00:00:00Z'), 'Pacific/Auckland');
    expect(april.end.getTime() - april.start.getTime()).toBe((30 * 24 + 1) * 3600_000);
    expect(span('day', '2026-09-26T12:00:00Z', 'Pacific/Auckland')).toEqual(['2026-09-27', '2026-09-26T12:00:00.000Z', '2026-09-27T11:00:00.000Z']);
  });

  it('starts weeks on Monday with ISO week keys', () => {
    expect(span('week', '2026-11-26T12:00:00Z', 'UTC')).toEqual(['2026-W48', '2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z']);
    // Sunday 23:30 UTC is Monday in Berlin: a new week there.
    expect(span('week', '2026-11-29T23:30:00Z', 'Europe/Berlin')[0]).toBe('2026-W49');
    expect(span('week', '2026-11-29T23:30:00Z', 'UTC')[0]).toBe('2026-W48');
    // Week spanning the Berlin October change is 7 days + 1 hour.
    const w = periodOf('week', at('2026-10-22T00:00:00Z'), 'Europe/Berlin');
    expect(w.end.getTime() - w.start.getTime()).toBe((7 * 24 + 1) * 3600_000);
  });

  it('numbers ISO weeks across year ends', () => {
    expect(isoWeek({ year: 2026, month: 1, day: 1 })).toEqual({ year: 2026, week: 1 }); // Thursday
    expect(isoWeek({ year: 2027, month: 1, day: 1 })).toEqual({ year: 2026, week: 53 }); // Friday
    expect(isoWeek({ year: 2024, month: 12, day: 30 })).toEqual({ year: 2025, week: 1 });
    expect(span('week', '2027-01-02T12:00:00Z', 'UTC')).toEqual(['2026-W53', '2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z']);
  });

  it('cuts quarters', () => {
    expect(span('quarter', '2026-11-26T12:00:00Z', 'UTC')).toEqual(['2026-Q4', '2026-10-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
    expect(span('quarter', '2026-03-31T22:30:00Z', 'Europe/Berlin')).toEqual(['2026-Q2', '2026-03-31T22:00:00.000Z', '2026-06-30T22:00:00.000Z']);
    expect(span('quarter', '2026-02-01T00:00:00Z', 'UTC')[0]).toBe('2026-Q1');
  });

  it('steps to previous and next periods, across years', () => {
    const jan = periodOf('month', at('2027-01-10T00:00:00Z'), 'Europe/Berlin');
    expect(previousPeriod(jan).key).toBe('2026-12');
    expect(previousPeriod(jan).end).toEqual(jan.start);
    expect(nextPeriod(previousPeriod(jan))).toEqual(jan);
    expect(previousPeriod(periodOf('quarter', at('2027-01-10T00:00:00Z'), 'UTC')).key).toBe('2026-Q4');
    expect(previousPeriod(periodOf('week', at('2027-01-06T00:00:00Z'), 'UTC')).key).toBe('2026-W53');
    expect(previousPeriod(periodOf('day', at('2026-03-01T12:00:00Z'), 'UTC')).key).toBe('2026-02-28');
    expect(nextPeriod(periodOf('day', at('2028-02-28T12:00:00Z'), 'UTC')).key).toBe('2028-02-29');
  });

  it('lists the local days of a period, even across DST', () => {
    const oct = periodOf('month', at('2026-10-15T00:00:00Z'), 'Europe/Berlin');
    const days = daysOf(oct);
    expect(days).toHaveLength(31);
    expect(days[30]).toEqual({ year: 2026, month: 10, day: 31 });
    expect(daysOf(periodOf('week', at('2026-11-26T00:00:00Z'), 'UTC')).map((d) => d.day)).toEqual([23, 24, 25, 26, 27, 28, 29]);
    expect(daysOf(periodOf('day', at('2026-03-29T12:00:00Z'), 'Europe/Berlin'))).toHaveLength(1);
  });

  it('measures elapsed fraction, clamped', () => {
    const p = periodOf('day', at('2026-11-26T12:00:00Z'), 'UTC');
    expect(elapsedFraction(p, at('2026-11-26T06:00:00Z'))).toBe(0.25);
    expect(elapsedFraction(p, at('2026-11-25T06:00:00Z'))).toBe(0);
    expect(elapsedFraction(p, at('2026-11-28T06:00:00Z'))).toBe(1);
  });
});

describe('parsing', () => {
  it('reads every key back to the same period', () => {
    for (const kind of ['day', 'week', 'month', 'quarter'] as const) {
      for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Pacific/Auckland']) {
        const p = periodOf(kind, at('2026-11-26T12:00:00Z'), tz);
        expect(parsePeriodKey(p.key.toLowerCase(), tz)).toEqual(p);
      }
    }
    expect(parsePeriodKey('2020-W53', 'UTC').start).toEqual(at('2020-12-28T00:00:00Z'));
  });

  it('refuses malformed keys with a helpful message', () => {
    for (const bad of ['2026-13', '2026-00', '2026-02-30', '2026-W54', '2026-W00', '2025-W53', '2026-Q5', 'november', '']) {
      expect(() => parsePeriodKey(bad, 'UTC'), bad).toThrow(/is not a period/);
    }
  });

  it('reads period kinds and aliases', () => {
    expect(parsePeriodKind(' Month ')).toBe('month');
    expect(parsePeriodKind('weekly')).toBe('week');
    expect(() => parsePeriodKind('year')).toThrow(/Unknown period "year"/);
  });
});
