/** Billing periods for limits and usage: calendar months in the org time zone (flows.md §3). */
import { dateKey, localDate, localParts, offsetAt, periodOf, type Period } from './calendar.js';

export type { Period };

export const monthPeriod = (at: Date, tz: string): Period => periodOf('month', at, tz);
export const dayPeriod = (at: Date, tz: string): Period => periodOf('day', at, tz);

/** "2026-11-26" in the org time zone: the day of a usage rollup row. */
export const dayKey = (at: Date, tz: string) => dateKey(localDate(at, tz));

/** Rollup day keys covered by a period: `from <= day < to`. */
export const periodDayRange = (p: Period) => ({ from: dayKey(p.start, p.timeZone), to: dayKey(p.end, p.timeZone) });

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO 8601 with the zone's offset, e.g. 2026-12-01T00:00:00+01:00 (what the client is told). */
export function formatZoned(at: Date, tz: string): string {
  const p = localParts(at, tz);
  const off = Math.round(offsetAt(at.getTime(), tz) / 60_000);
  const abs = Math.abs(off);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` +
    `${off < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * Remembers the current period of a clock so the hot path does not format dates per request;
 * recomputes only when `at` leaves the cached period.
 */
export class PeriodCache {
  private current: Period | null = null;
  constructor(private readonly kind: 'day' | 'month', private readonly tz: string) {}
  at(at: Date): Period {
    const t = at.getTime();
    const c = this.current;
    if (c && t >= c.start.getTime() && t < c.end.getTime()) return c;
    return (this.current = periodOf(this.kind, at, this.tz));
  }
}
