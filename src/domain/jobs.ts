/**
 * Job schedules as 5-field cron expressions evaluated in an IANA time zone, and the slots they
 * produce. A slot is the scheduled instant; `(job, slot)` is the exactly-once claim key and the
 * latest due slot is what a process catches up on at start-up. node-cron only provides ticks.
 *
 * DST follows Vixie cron: a fixed time in a skipped hour runs once right after the jump; a fixed
 * time in a repeated hour runs once (the first pass); jobs with a wildcard hour ("* * * * *",
 * "0 * * * *") run in both passes and do not invent slots in the gap.
 */
import { echo, invalid } from './errors.js';
import { addDays, instantsOf, isoWeekday, localDate, startOfDay, zonedTime, type LocalDate } from './calendar.js';
import { DAY } from './durations.js';

export interface CronSpec {
  source: string;
  minutes: number[];
  hours: number[];
  days: Set<number>;
  months: Set<number>;
  /** 0 = Sunday … 6 = Saturday (7 is read as 0). */
  weekdays: Set<number>;
  dayRestricted: boolean;
  weekdayRestricted: boolean;
  hourWildcard: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function field(raw: string, name: string, min: number, max: number, names: string[] = [], nameBase = min): number[] {
  const bad = () => invalid(`Cron ${name} "${echo(raw, 20)}" is not valid: use numbers ${min}-${max}, "*", ranges a-b, lists a,b and steps */n.`);
  const value = (v: string) => {
    const i = names.indexOf(v.toLowerCase());
    if (i >= 0) return i + nameBase;
    if (!/^\d{1,2}$/.test(v)) throw bad();
    return Number(v);
  };
  const out = new Set<number>();
  for (const part of raw.split(',')) {
    const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(part);
    if (!m) throw bad();
    const step = m[2] === undefined ? 1 : Number(m[2]);
    let lo: number;
    let hi: number;
    if (m[1] === '*') [lo, hi] = [min, max];
    else if (m[1]!.includes('-')) {
      const [a, b] = m[1]!.split('-');
      [lo, hi] = [value(a!), value(b ?? '')];
    } else {
      lo = value(m[1]!);
      hi = m[2] === undefined ? lo : max;
    }
    if (step < 1 || lo < min || hi > max || lo > hi) throw bad();
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/** Parses "m h dom mon dow" (names like MON, JAN accepted; dow 0 or 7 = Sunday). */
export function parseCron(source: string): CronSpec {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5) throw invalid(`A schedule has 5 fields "minute hour day month weekday", e.g. "0 9 * * 1" (got "${echo(source)}").`);
  const [mi, h, dom, mon, dow] = parts as [string, string, string, string, string];
  const weekdays = new Set(field(dow, 'weekday', 0, 7, WEEKDAYS, 0).map((d) => d % 7));
  return {
    source: parts.join(' '),
    minutes: field(mi, 'minute', 0, 59),
    hours: field(h, 'hour', 0, 23),
    days: new Set(field(dom, 'day', 1, 31)),
    months: new Set(field(mon, 'month', 1, 12, MONTHS, 1)),
    weekdays,
    dayRestricted: dom !== '*',
    weekdayRestricted: dow !== '*',
    hourWildcard: h === '*' || h.startsWith('*/'),
  };
}

/** Cron day matching: when both day and weekday are restricted, either may match (Vixie). */
function dayMatches(c: CronSpec, d: LocalDate): boolean {
  if (!c.months.has(d.month)) return false;
  const dom = c.days.has(d.day);
  const dow = c.weekdays.has(isoWeekday(d) % 7);
  if (c.dayRestricted && c.weekdayRestricted) return dom || dow;
  return dom && dow;
}

/** Slot instants on one local day, ascending. */
function slotsOn(c: CronSpec, d: LocalDate, timeZone: string): number[] {
  const out = new Set<number>();
  const start = startOfDay(d, timeZone).getTime();
  if (startOfDay(addDays(d, 1), timeZone).getTime() - start === DAY) {
    // No clock change today (the common case): one offset for the whole day.
    for (const hour of c.hours) for (const minute of c.minutes) out.add(start + (hour * 60 + minute) * 60_000);
    return [...out].sort((a, b) => a - b);
  }
  for (const hour of c.hours) {
    for (const minute of c.minutes) {
      const t = { ...d, hour, minute, second: 0 };
      const found = instantsOf(t, timeZone);
      if (found.length === 0) {
        if (!c.hourWildcard) out.add(zonedTime(t, timeZone).getTime());
      } else {
        for (const at of c.hourWildcard ? found : found.slice(0, 1)) out.add(at.getTime());
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** How far back/forward to look: covers "29 Feb on a Monday"-like rarities. */
const SEARCH_DAYS = 366 * 8;

/** The latest slot at or before `now`, or null when there is none within 8 years. */
export function latestSlot(c: CronSpec, now: Date, timeZone: string): Date | null {
  const today = localDate(now, timeZone);
  for (let i = 0; i < SEARCH_DAYS; i++) {
    const d = addDays(today, -i);
    if (!dayMatches(c, d)) continue;
    const slots = slotsOn(c, d, timeZone).filter((t) => t <= now.getTime());
    if (slots.length) return new Date(slots[slots.length - 1]!);
  }
  return null;
}

/** The first slot strictly after `now`. */
export function nextSlot(c: CronSpec, now: Date, timeZone: string): Date | null {
  const today = localDate(now, timeZone);
  for (let i = 0; i < SEARCH_DAYS; i++) {
    const d = addDays(today, i);
    if (!dayMatches(c, d)) continue;
    const slot = slotsOn(c, d, timeZone).find((t) => t > now.getTime());
    if (slot !== undefined) return new Date(slot);
  }
  return null;
}

export interface JobDefinition {
  name: string;
  cron: string;
  /** A claim older than this may be taken over (the claimer died). */
  timeoutMs: number;
  /** Run the latest missed slot once at start-up. */
  catchUp: boolean;
}

/** Defaults; the digest cron can be overridden per org. Statements on the 1st, 00:00 local. */
export const JOBS = {
  alerts: { name: 'alerts', cron: '* * * * *', timeoutMs: 5 * 60_000, catchUp: false },
  expiry: { name: 'expiry', cron: '* * * * *', timeoutMs: 5 * 60_000, catchUp: false },
  rotationReminders: { name: 'rotation-reminders', cron: '0 9 * * *', timeoutMs: 30 * 60_000, catchUp: true },
  digest: { name: 'digest', cron: '0 9 * * 1', timeoutMs: 30 * 60_000, catchUp: true },
  statement: { name: 'statement', cron: '0 0 1 * *', timeoutMs: 30 * 60_000, catchUp: true },
} as const satisfies Record<string, JobDefinition>;

/** Unique claim key of a run: "digest@2026-11-23T08:00:00.000Z". */
export const slotKey = (job: string, slot: Date) => `${job}@${slot.toISOString()}`;

/**
 * What a tick or a start-up should run: the latest slot ≤ now, unless it was already claimed.
 * Jobs without catch-up only run a slot within `graceMs` of its time (a late tick still counts).
 */
export function dueSlot(job: JobDefinition, now: Date, timeZone: string, lastClaimed: Date | null, graceMs = 5 * 60_000): Date | null {
  const slot = latestSlot(parseCron(job.cron), now, timeZone);
  if (!slot || (lastClaimed && lastClaimed.getTime() >= slot.getTime())) return null;
  if (!job.catchUp && now.getTime() - slot.getTime() > graceMs) return null;
  return slot;
}

/** A claim still running after the job's timeout is presumed dead and may be taken over. */
export const claimExpired = (job: JobDefinition, claimedAt: Date, now: Date) => now.getTime() - claimedAt.getTime() > job.timeoutMs;

// ── Rotation reminders ─────────────────────────────────────────────────────────

export interface RotationPolicy {
  maxAgeDays: number;
  expiringWithinDays: number;
  remindEveryDays: number;
}

export const DEFAULT_ROTATION: RotationPolicy = { maxAgeDays: 90, expiringWithinDays: 14, remindEveryDays: 7 };

export interface RotationCandidate {
  id: string;
  status: string;
  createdAt: Date;
  /** The secret's age counts from its last rotation. */
  rotatedAt: Date | null;
  expiresAt: Date | null;
  lastRemindedAt?: Date | null;
}

export type RotationReason = { reason: 'expiring'; expiresInDays: number; ageDays: number } | { reason: 'old'; ageDays: number };

/** Why an active key should be rotated now, or null. Expiry soon wins over age. */
export function rotationDue(key: RotationCandidate, now: Date, policy: RotationPolicy = DEFAULT_ROTATION): RotationReason | null {
  if (key.status !== 'active') return null;
  const ageDays = Math.floor((now.getTime() - (key.rotatedAt ?? key.createdAt).getTime()) / DAY);
  if (key.expiresAt) {
    const left = key.expiresAt.getTime() - now.getTime();
    if (left <= 0) return null; // the expiry job handles it
    if (left <= policy.expiringWithinDays * DAY) return { reason: 'expiring', expiresInDays: Math.ceil(left / DAY), ageDays };
  }
  return ageDays >= policy.maxAgeDays ? { reason: 'old', ageDays } : null;
}

/** Due, and not reminded within the last `remindEveryDays` (at most one DM per key per week). */
export function shouldRemind(key: RotationCandidate, now: Date, policy: RotationPolicy = DEFAULT_ROTATION): RotationReason | null {
  const last = key.lastRemindedAt;
  if (last && now.getTime() - last.getTime() < policy.remindEveryDays * DAY) return null;
  return rotationDue(key, now, policy);
}

/** "90" or "90d" → days, 1–3650 (KEYWARD_ROTATION_DAYS or a setting). */
export function parseRotationDays(raw: string): number {
  const m = /^(\d{1,4})d?$/i.exec(raw.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!m || n < 1 || n > 3650) throw invalid(`Rotation age takes days from 1 to 3650, like "90" (got "${echo(raw)}").`);
  return n;
}
