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

export const DEFAULT_GRACE_MS = 24 * HOUR;
export const REVEAL_WINDOW_MS = 15 * 60_000;
export { HOUR, DAY };
