/** Formatting at the edge: money is integer micro-dollars everywhere else. */

export const MICROS_PER_USD = 1_000_000n;

const group = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** 1_234_560_000n → "$1,234.56" (half-up to the cent); tiny non-zero amounts → "<$0.01". */
export function formatUsd(micros: bigint | number): string {
  const m = BigInt(micros);
  const neg = m < 0n;
  const abs = neg ? -m : m;
  if (abs > 0n && abs < 5_000n) return neg ? '-<$0.01' : '<$0.01';
  const cents = (abs + 5_000n) / 10_000n;
  const text = `$${group(String(cents / 100n))}.${String(cents % 100n).padStart(2, '0')}`;
  return neg ? `-${text}` : text;
}

/** Exact decimal dollars for files and machines: 1_234_560_001n → "1234.560001". */
export function microsToDecimal(micros: bigint | number): string {
  const m = BigInt(micros);
  const abs = m < 0n ? -m : m;
  const text = `${abs / MICROS_PER_USD}.${String(abs % MICROS_PER_USD).padStart(6, '0')}`;
  return m < 0n ? `-${text}` : text;
}

/** 1234567 → "1,234,567". */
export const formatCount = (n: number | bigint) => (typeof n === 'bigint' || Number.isInteger(n) ? group(String(n)) : group(n.toFixed(0)));

/** 1_234_567 → "1.2M", 12_300 → "12.3k" (axis labels, compact lines). */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  const units: Array<[number, string]> = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of units) {
    if (abs >= size) return `${trimZero((n / size).toFixed(abs >= size * 100 ? 0 : 1))}${suffix}`;
  }
  return trimZero(n.toFixed(abs < 10 && !Number.isInteger(n) ? 1 : 0));
}

const trimZero = (s: string) => s.replace(/\.0$/, '');

/** 0.4567 → "45.7%"; whole numbers stay whole ("50%"). */
export function formatPercent(fraction: number, digits = 1): string {
  const v = fraction * 100;
  return `${trimZero(v.toFixed(Number.isInteger(v) ? 0 : digits))}%`;
}

/** Percentage of `part` in `whole` as a number (one decimal), exact for bigint money. */
export function percentOf(part: bigint, whole: bigint): number {
  if (whole <= 0n) return 0;
  return Number((part * 1000n) / whole) / 10;
}
