import { echo, invalid } from './errors.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** "30d" → ms. Days from 1 to 3650. */
export function parseDays(raw: string, flag = '--expires'): number {
  const m = /^(\d{1,4})d$/i.exec(raw.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!m || n < 1 || n > 3650) throw invalid(`${flag} takes a number of days from 1 to 3650, like "30d" (got "${echo(raw)}").`);
  return n * DAY;
}

/** "24h" → ms. Hours from 0 (old secret stops at once) to 720 (30 days); "7d" is accepted too. */
export function parseGrace(raw: string): number {
  const m = /^(\d{1,4})([hd])$/i.exec(raw.trim());
  if (!m) throw invalid(`--grace takes hours like "24h" or days like "7d" (got "${echo(raw)}").`);
  const ms = Number(m[1]) * (m[2]!.toLowerCase() === 'd' ? DAY : HOUR);
  if (ms > 30 * DAY) throw invalid('--grace is at most 30 days (720h).');
  return ms;
}

const UNIT_MS = { m: 60_000, h: HOUR, d: DAY } as const;

/** `--since 7d` / `12h` / `30m`, or a date such as 2026-11-01 (UTC) or an ISO time. */
export function parseSince(raw: string, now: Date): Date {
  const text = raw.trim();
  const rel = /^(\d{1,5})([mhd])$/i.exec(text);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2]!.toLowerCase() as keyof typeof UNIT_MS]);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const d = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw invalid(`--since takes a duration like 7d, 12h or 30m, or a date like 2026-11-01 (got "${echo(raw)}")`);
}

export const DEFAULT_GRACE_MS = 24 * HOUR;
export const REVEAL_WINDOW_MS = 15 * 60_000;
export { HOUR, DAY };
