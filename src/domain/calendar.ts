/**
 * Calendar periods in an IANA time zone without a date library (Intl only).
 * Periods are half-open [start, end) UTC instants; a period is named by its start
 * ("2026-11-26", "2026-W48", "2026-11", "2026-Q4"), which also keys alerts and statements.
 */
import { echo, invalid } from './errors.js';

export const PERIOD_KINDS = ['day', 'week', 'month', 'quarter'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export interface Period {
  kind: PeriodKind;
  key: string;
  start: Date;
  end: Date;
  timeZone: string;
}

/** A local calendar date (month 1–12). */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export interface LocalDateTime extends LocalDate {
  hour: number;
  minute: number;
  second: number;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `timeZone` at `instant`. */
export function localParts(instant: Date, timeZone: string): LocalDateTime {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal' && p.type !== 'era') out[p.type] = Number(p.value);
  }
  return { year: out.year!, month: out.month!, day: out.day!, hour: out.hour! % 24, minute: out.minute!, second: out.second! };
}

/** Wall time as if it were UTC, in ms (seconds precision). */
const wallMs = (t: LocalDateTime) => Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);

/** UTC offset of `timeZone` at `ms`, in ms (e.g. +3_600_000 for CET). */
export function offsetAt(ms: number, timeZone: string): number {
  const floored = Math.floor(ms / 1000) * 1000;
  return wallMs(localParts(new Date(floored), timeZone)) - floored;
}

/**
 * Every instant showing the wall time `t` in `timeZone`: one normally, two in a fall-back
 * overlap (earlier first), none in a spring-forward gap.
 */
export function instantsOf(t: LocalDateTime, timeZone: string): Date[] {
  const w = wallMs(t);
  const offsets = [...new Set([offsetAt(w - DAY_MS, timeZone), offsetAt(w + DAY_MS, timeZone)])];
  const hits = offsets.map((o) => w - o).filter((ms) => wallMs(localParts(new Date(ms), timeZone)) === w);
  return [...new Set(hits)].sort((a, b) => a - b).map((ms) => new Date(ms));
}

/**
 * The instant for a wall time, resolved like Temporal's "compatible": the earlier one in an
 * overlap, and in a gap the instant the clock jumps to (02:30 in a 02:00→03:00 gap = 03:30).
 */
export function zonedTime(t: LocalDateTime, timeZone: string): Date {
  const found = instantsOf(t, timeZone);
  if (found[0]) return found[0];
  return new Date(wallMs(t) - offsetAt(wallMs(t) - DAY_MS, timeZone));
}

/** Adds days to a local date (pure calendar arithmetic, month/year roll-over included). */
export function addDays(d: LocalDate, days: number): LocalDate {
  const x = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: x.getUTCFullYear(), month: x.getUTCMonth() + 1, day: x.getUTCDate() };
}

/** ISO weekday: Monday 1 … Sunday 7. */
export const isoWeekday = (d: LocalDate) => new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() || 7;

/** ISO 8601 week-numbering year and week of a local date. */
export function isoWeek(d: LocalDate): { year: number; week: number } {
  const thursday = addDays(d, 4 - isoWeekday(d));
  const jan1 = Date.UTC(thursday.year, 0, 1);
  const week = Math.floor((Date.UTC(thursday.year, thursday.month - 1, thursday.day) - jan1) / (7 * DAY_MS)) + 1;
  return { year: thursday.year, week };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
export const dateKey = (d: LocalDate) => `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;

/** Local calendar date of an instant, e.g. for daily chart buckets. */
export function localDate(instant: Date, timeZone: string): LocalDate {
  const { year, month, day } = localParts(instant, timeZone);
  return { year, month, day };
}

/** Local midnight (or the first instant of the day where midnight is skipped). */
export const startOfDay = (d: LocalDate, timeZone: string) => zonedTime({ ...d, hour: 0, minute: 0, second: 0 }, timeZone);

/** First local date of the period containing `d`. */
function firstDay(kind: PeriodKind, d: LocalDate): LocalDate {
  switch (kind) {
    case 'day':
      return d;
    case 'week':
      return addDays(d, 1 - isoWeekday(d));
    case 'month':
      return { year: d.year, month: d.month, day: 1 };
    case 'quarter':
      return { year: d.year, month: d.month - ((d.month - 1) % 3), day: 1 };
  }
}

function nextFirstDay(kind: PeriodKind, first: LocalDate): LocalDate {
  if (kind === 'day') return addDays(first, 1);
  if (kind === 'week') return addDays(first, 7);
  const months = kind === 'month' ? 1 : 3;
  const m = first.month - 1 + months;
  return { year: first.year + Math.floor(m / 12), month: (m % 12) + 1, day: 1 };
}

function keyOf(kind: PeriodKind, first: LocalDate): string {
  switch (kind) {
    case 'day':
      return dateKey(first);
    case 'week': {
      const { year, week } = isoWeek(first);
      return `${pad(year, 4)}-W${pad(week)}`;
    }
    case 'month':
      return `${pad(first.year, 4)}-${pad(first.month)}`;
    case 'quarter':
      return `${pad(first.year, 4)}-Q${(first.month + 2) / 3}`;
  }
}

function periodFrom(kind: PeriodKind, first: LocalDate, timeZone: string): Period {
  return {
    kind,
    key: keyOf(kind, first),
    start: startOfDay(first, timeZone),
    end: startOfDay(nextFirstDay(kind, first), timeZone),
    timeZone,
  };
}

/** The period of `kind` containing `instant` in `timeZone`. */
export function periodOf(kind: PeriodKind, instant: Date, timeZone: string): Period {
  return periodFrom(kind, firstDay(kind, localDate(instant, timeZone)), timeZone);
}

export const previousPeriod = (p: Period) => periodOf(p.kind, new Date(p.start.getTime() - 1), p.timeZone);
export const nextPeriod = (p: Period) => periodOf(p.kind, p.end, p.timeZone);

/** First local date of a period (its key, read back). */
export function periodFirstDay(p: Period): LocalDate {
  return localDate(p.start, p.timeZone);
}

/** Local dates covered by the period, in order (chart x axis). */
export function daysOf(p: Period): LocalDate[] {
  const days: LocalDate[] = [];
  const last = dateKey(localDate(new Date(p.end.getTime() - 1), p.timeZone));
  for (let d = periodFirstDay(p); days.length < 100; d = addDays(d, 1)) {
    days.push(d);
    if (dateKey(d) === last) break;
  }
  return days;
}

/** Share of the period elapsed at `now`, clamped to [0, 1]. */
export function elapsedFraction(p: Period, now: Date): number {
  const f = (now.getTime() - p.start.getTime()) / (p.end.getTime() - p.start.getTime());
  return Math.min(1, Math.max(0, f));
}

export function parsePeriodKind(raw: string): PeriodKind {
  const v = raw.trim().toLowerCase();
  const aliases: Record<string, PeriodKind> = { today: 'day', daily: 'day', weekly: 'week', monthly: 'month', quarterly: 'quarter' };
  const kind = aliases[v] ?? v;
  if ((PERIOD_KINDS as readonly string[]).includes(kind)) return kind as PeriodKind;
  throw invalid(`Unknown period "${echo(raw)}". Use one of: ${PERIOD_KINDS.join(', ')}.`);
}

/** Reads a period key back ("2026-11-26", "2026-W48", "2026-11", "2026-Q4"). */
export function parsePeriodKey(raw: string, timeZone: string): Period {
  const key = raw.trim().toUpperCase();
  const bad = () => invalid(`"${echo(raw)}" is not a period. Use a month like 2026-11, a week like 2026-W48, a quarter like 2026-Q4 or a day like 2026-11-26.`);
  let m: RegExpExecArray | null;
  let kind: PeriodKind;
  let first: LocalDate;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key))) {
    kind = 'day';
    first = { year: +m[1]!, month: +m[2]!, day: +m[3]! };
    if (dateKey(addDays(first, 0)) !== key) throw bad();
  } else if ((m = /^(\d{4})-W(\d{2})$/.exec(key))) {
    kind = 'week';
    const year = +m[1]!;
    const week = +m[2]!;
    // Week 1 holds January 4th.
    const jan4: LocalDate = { year, month: 1, day: 4 };
    first = addDays(jan4, 1 - isoWeekday(jan4) + (week - 1) * 7);
    if (week < 1 || isoWeek(first).year !== year) throw bad();
  } else if ((m = /^(\d{4})-(\d{2})$/.exec(key))) {
    kind = 'month';
    first = { year: +m[1]!, month: +m[2]!, day: 1 };
    if (first.month < 1 || first.month > 12) throw bad();
  } else if ((m = /^(\d{4})-Q([1-4])$/.exec(key))) {
    kind = 'quarter';
    first = { year: +m[1]!, month: (+m[2]! - 1) * 3 + 1, day: 1 };
  } else throw bad();
  if (first.year < 1970) throw bad();
  return periodFrom(kind, first, timeZone);
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "November 2026", "Week 48, 2026", "Q4 2026", "2026-11-26". */
export function periodLabel(p: Period): string {
  if (p.kind === 'month') {
    const [y, m] = p.key.split('-');
    return `${MONTH_NAMES[Number(m) - 1]} ${y}`;
  }
  if (p.kind === 'week') return `Week ${Number(p.key.slice(6))}, ${p.key.slice(0, 4)}`;
  if (p.kind === 'quarter') return `${p.key.slice(5)} ${p.key.slice(0, 4)}`;
  return p.key;
}

/** `2026-11-26 14:03 UTC` in the configured time zone; `-` for none. */
export function fmtTime(d: Date | null | undefined, timeZone: string): string {
  if (!d) return '-';
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      hourCycle: 'h23', timeZoneName: 'short',
    }).formatToParts(d).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}
