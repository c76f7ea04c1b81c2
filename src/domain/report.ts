/**
 * The usage summary model every view reads (/usage, App Home, digest, charts): totals of a
 * period, breakdowns, comparison with the previous period, spend against limits.
 * Services fill it from rollups; everything here is arithmetic on it.
 */

export interface ErrorSplit {
  /** Bad or unknown key. */
  unauthorized: number;
  /** Key not allowed (scope, model, project). */
  forbidden: number;
  /** Rate or spend limit. */
  rateLimited: number;
  /** Upstream or gateway failures. */
  server: number;
  /** Any other non-2xx (400, 404, 413, client closed…). */
  other: number;
}

export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicros: bigint;
  errors: ErrorSplit;
  /** Null when no request carried a latency. */
  latencyAvgMs: number | null;
  latencyP95Ms: number | null;
}

/** One row of a "top keys" / "top models" / "per project" list. */
export interface Breakdown {
  id: string;
  label: string;
  requests: number;
  tokens: number;
  costMicros: bigint;
}

export const emptyErrors = (): ErrorSplit => ({ unauthorized: 0, forbidden: 0, rateLimited: 0, server: 0, other: 0 });

export const emptyTotals = (): UsageTotals => ({
  requests: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costMicros: 0n,
  errors: emptyErrors(),
  latencyAvgMs: null,
  latencyP95Ms: null,
});

export const totalTokensOf = (t: Pick<UsageTotals, 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'cacheWriteTokens'>) =>
  t.inputTokens + t.outputTokens + t.cacheReadTokens + t.cacheWriteTokens;

export const errorCount = (e: ErrorSplit) => e.unauthorized + e.forbidden + e.rateLimited + e.server + e.other;

/** Failed share of requests (0 when there were none). */
export const errorRate = (t: UsageTotals) => (t.requests > 0 ? errorCount(t.errors) / t.requests : 0);

/** Which bucket an HTTP status counts in (null = success). */
export function errorBucket(status: number): keyof ErrorSplit | null {
  if (status < 400) return null;
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 429) return 'rateLimited';
  if (status >= 500) return 'server';
  return 'other';
}

/**
 * Adds totals. The average latency is weighted by requests; p95 cannot be combined exactly, so the
 * largest p95 is kept (an upper bound) — compute it from a histogram when it must be exact.
 */
export function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  const weight = (t: UsageTotals) => (t.latencyAvgMs === null ? 0 : t.requests);
  const wa = weight(a);
  const wb = weight(b);
  const p95 = [a.latencyP95Ms, b.latencyP95Ms].filter((v): v is number => v !== null);
  return {
    requests: a.requests + b.requests,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costMicros: a.costMicros + b.costMicros,
    errors: {
      unauthorized: a.errors.unauthorized + b.errors.unauthorized,
      forbidden: a.errors.forbidden + b.errors.forbidden,
      rateLimited: a.errors.rateLimited + b.errors.rateLimited,
      server: a.errors.server + b.errors.server,
      other: a.errors.other + b.errors.other,
    },
    latencyAvgMs: wa + wb === 0 ? null : ((a.latencyAvgMs ?? 0) * wa + (b.latencyAvgMs ?? 0) * wb) / (wa + wb),
    latencyP95Ms: p95.length ? Math.max(...p95) : null,
  };
}

/**
 * Relative change from `previous` to `current` (0.25 = +25 %). Null when there is nothing to
 * compare with (previous 0, current > 0: "new"); 0 when both are 0.
 */
export function percentChange(current: number | bigint, previous: number | bigint): number | null {
  const c = Number(current);
  const p = Number(previous);
  if (p === 0) return c === 0 ? 0 : null;
  return (c - p) / p;
}

/** Top `n` by cost, then tokens, then label (stable, so outputs are deterministic). */
export function topN<T extends Breakdown>(rows: readonly T[], n: number): T[] {
  return [...rows]
    .sort((a, b) => (a.costMicros !== b.costMicros ? (a.costMicros > b.costMicros ? -1 : 1) : b.tokens - a.tokens || a.label.localeCompare(b.label)))
    .slice(0, n);
}

export interface LimitStatus {
  spendMicros: bigint;
  hardMicros: bigint | null;
  softMicros: bigint | null;
}

// ── Latency histogram: p95 from rollups without keeping every request ──────────────

/** Upper bounds (ms) of latency buckets; a last open bucket catches the rest. */
export const LATENCY_BUCKETS_MS = [50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000] as const;

/** Index of the bucket for a latency (counts array has LATENCY_BUCKETS_MS.length + 1 slots). */
export function latencyBucket(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/** The `q` quantile (0.95) as the upper bound of the bucket that holds it; null when empty. */
export function quantileFromHistogram(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return LATENCY_BUCKETS_MS[i] ?? LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
  }
  return null;
}
