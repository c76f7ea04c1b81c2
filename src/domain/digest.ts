/**
 * The weekly digest's content: per project totals, week-over-week change, top keys, error rate,
 * cost against limits and keys due for rotation. Views render it; this decides what is in it.
 */
import type { Period } from './calendar.js';
import type { RotationReason } from './jobs.js';
import { addTotals, emptyTotals, errorRate, percentChange, topN, totalTokensOf, type Breakdown, type LimitStatus, type UsageTotals } from './report.js';

export interface DueKey {
  id: string;
  name: string;
  projectName: string;
  ownerId: string;
  due: RotationReason;
}

export interface DigestProjectInput {
  id: string;
  name: string;
  current: UsageTotals;
  previous: UsageTotals;
  keys: Breakdown[];
  /** Month-to-date spend against the project's limits, when it has any. */
  limit: LimitStatus | null;
}

export interface DigestProject {
  id: string;
  name: string;
  totals: UsageTotals;
  tokens: number;
  change: { requests: number | null; tokens: number | null; cost: number | null };
  errorRate: number;
  topKeys: Breakdown[];
  limit: LimitStatus | null;
}

export interface Digest {
  week: Period;
  /** True when no project had a request: the message is the short form. */
  empty: boolean;
  totals: UsageTotals;
  previousTotals: UsageTotals;
  change: { requests: number | null; tokens: number | null; cost: number | null };
  /** Projects with usage, most expensive first. */
  projects: DigestProject[];
  /** Projects without a request this week (named in one line). */
  quiet: string[];
  dueKeys: DueKey[];
}

const change = (c: UsageTotals, p: UsageTotals) => ({
  requests: percentChange(c.requests, p.requests),
  tokens: percentChange(totalTokensOf(c), totalTokensOf(p)),
  cost: percentChange(c.costMicros, p.costMicros),
});

export function buildDigest(input: { week: Period; projects: DigestProjectInput[]; dueKeys: DueKey[]; topKeys?: number }): Digest {
  const n = input.topKeys ?? 3;
  const active = input.projects.filter((p) => p.current.requests > 0);
  const projects = active
    .map<DigestProject>((p) => ({
      id: p.id,
      name: p.name,
      totals: p.current,
      tokens: totalTokensOf(p.current),
      change: change(p.current, p.previous),
      errorRate: errorRate(p.current),
      topKeys: topN(p.keys, n),
      limit: p.limit,
    }))
    .sort((a, b) => (a.totals.costMicros !== b.totals.costMicros ? (a.totals.costMicros > b.totals.costMicros ? -1 : 1) : b.tokens - a.tokens || a.name.localeCompare(b.name)));
  const totals = input.projects.reduce((s, p) => addTotals(s, p.current), emptyTotals());
  const previousTotals = input.projects.reduce((s, p) => addTotals(s, p.previous), emptyTotals());
  return {
    week: input.week,
    empty: active.length === 0,
    totals,
    previousTotals,
    change: change(totals, previousTotals),
    projects,
    quiet: input.projects
      .filter((p) => p.current.requests === 0)
      .map((p) => p.name)
      .sort((a, b) => a.localeCompare(b)),
    dueKeys: [...input.dueKeys].sort((a, b) => dueOrder(a) - dueOrder(b) || a.projectName.localeCompare(b.projectName) || a.name.localeCompare(b.name)),
  };
}

/** Expiring keys first (soonest first), then the oldest. */
const dueOrder = (k: DueKey) => (k.due.reason === 'expiring' ? k.due.expiresInDays - 1_000_000 : -k.due.ageDays);
