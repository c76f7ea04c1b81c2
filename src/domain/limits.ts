import { invalid } from './errors.js';

export const MICROS_PER_USD = 1_000_000n;

/** "12.5", "$12.50", "1,000" → micro-dollars. At most 6 decimals; up to $1 billion. */
export function parseUsd(raw: string): bigint {
  const text = raw.trim().replace(/^\$/, '').replace(/,/g, '');
  const m = /^(\d{1,10})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) throw invalid(`"${raw.slice(0, 30)}" is not an amount in USD: use a number like 100 or 12.50.`);
  const micros = BigInt(m[1]!) * MICROS_PER_USD + BigInt((m[2] ?? '').padEnd(6, '0'));
  if (micros > 1_000_000_000n * MICROS_PER_USD) throw invalid('Limits are at most $1,000,000,000.');
  return micros;
}

/** Micro-dollars → "$1,234.56" (cents; sub-cent amounts keep up to 4 decimals). */
export function formatUsd(micros: bigint): string {
  const neg = micros < 0n;
  const abs = neg ? -micros : micros;
  const whole = abs / MICROS_PER_USD;
  const frac = abs % MICROS_PER_USD;
  let decimals = frac.toString().padStart(6, '0');
  decimals = whole === 0n && frac > 0n && frac < 10_000n ? decimals.slice(0, 4).replace(/0+$/, '').padEnd(2, '0') : decimals.slice(0, 2);
  return `${neg ? '-' : ''}$${whole.toLocaleString('en-US')}.${decimals}`;
}

export const microsToUsdNumber = (micros: bigint) => Number(micros) / 1e6;

/** What `/limits set` may change. `null` clears a limit; absent leaves it as is. */
export interface LimitChanges {
  hardMicros?: bigint | null;
  rpm?: number | null;
  itpm?: number | null;
  otpm?: number | null;
}
export const LIMIT_FIELDS = ['hard', 'rpm', 'itpm', 'otpm'] as const;
const CLEAR = new Set(['none', 'off', 'unlimited', '-']);

function parseRate(name: string, raw: string): number {
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < 1 || Number(raw) > 100_000_000) {
    throw invalid(`${name} takes a whole number from 1 to 100000000, or "none" (got "${raw.slice(0, 20)}").`);
  }
  return Number(raw);
}

/** `hard=100 rpm=60 itpm=none` → changes. Unknown or repeated settings are refused. */
export function parseLimitChanges(args: string[]): LimitChanges {
  const out: LimitChanges = {};
  if (args.length === 0) throw invalid('Nothing to set: give at least one of hard=<usd> rpm=<n> itpm=<n> otpm=<n>.');
  for (const arg of args) {
    const m = /^([a-z]+)=(.*)$/i.exec(arg.trim());
    const name = m?.[1]!.toLowerCase();
    if (!m || !(LIMIT_FIELDS as readonly string[]).includes(name!)) {
      throw invalid(`Unknown setting "${arg.slice(0, 30)}". Use hard=<usd>, rpm=<n>, itpm=<n> or otpm=<n>.`);
    }
    const value = m[2]!.trim();
    const key = name === 'hard' ? 'hardMicros' : (name as 'rpm' | 'itpm' | 'otpm');
    if (key in out) throw invalid(`${name} is given twice.`);
    if (CLEAR.has(value.toLowerCase())) out[key] = null;
    else if (key === 'hardMicros') out.hardMicros = parseUsd(value);
    else out[key] = parseRate(name!, value);
  }
  return out;
}

/**
 * The 400 message a client sees when a hard limit cannot cover a request (Anthropic's wording
 * first). The org-wide amount is for org admins only, so a key holder is not told it.
 */
export function spendLimitMessage(opts: { scope: 'project' | 'org'; project: string; hardMicros: bigint; resetAt: string }): string {
  const which = opts.scope === 'project'
    ? `project "${opts.project}": the hard limit is ${formatUsd(opts.hardMicros)} per month.`
    : `your organisation (project "${opts.project}"): its monthly hard limit is spent.`;
  return `You have reached your specified API usage limits for ${which} You will regain access on ${opts.resetAt}.`;
}
