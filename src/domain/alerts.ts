/**
 * Spend alerts: which thresholds a spend has reached, the soft-limit event, the projected date the
 * hard limit is reached, and the payload shared by the Slack message and the webhook JSON.
 * The outbox (phase 2) stores one row per (limit, period, eventKey); these functions only decide.
 */
import { echo, invalid } from './errors.js';
import type { Period } from './calendar.js';
import { formatUsd, percentOf } from './money.js';

export const DEFAULT_THRESHOLDS: readonly number[] = [50, 75, 90, 100];
export const MAX_THRESHOLDS = 10;

/** "50,75,90,100" (spaces and % allowed) → sorted unique integers 1–1000. */
export function parseThresholds(raw: string): number[] {
  const parts = raw.split(',').map((s) => s.trim().replace(/%$/, '').trim());
  if (parts.every((p) => p === '')) throw invalid('Give thresholds as percentages, e.g. thresholds=50,75,90,100.');
  const values = parts.map((p) => {
    if (!/^\d{1,4}$/.test(p) || Number(p) < 1 || Number(p) > 1000) {
      throw invalid(`Threshold "${echo(p, 10)}" must be a whole percentage from 1 to 1000 (e.g. 50,75,90,100).`);
    }
    return Number(p);
  });
  const unique = [...new Set(values)].sort((a, b) => a - b);
  if (unique.length > MAX_THRESHOLDS) throw invalid(`At most ${MAX_THRESHOLDS} thresholds, please (got ${unique.length}).`);
  return unique;
}

export interface LimitConfig {
  /** Spend cap enforced by the gateway (micro-dollars), or null. */
  hardMicros: bigint | null;
  /** Warning level without enforcement, or null. */
  softMicros: bigint | null;
  thresholds: readonly number[];
}

/** Thresholds are percentages of the hard limit, or of the soft limit when there is no hard one. */
export function alertBasis(limit: LimitConfig): { kind: 'hard' | 'soft'; micros: bigint } | null {
  if (limit.hardMicros !== null && limit.hardMicros > 0n) return { kind: 'hard', micros: limit.hardMicros };
  if (limit.softMicros !== null && limit.softMicros > 0n) return { kind: 'soft', micros: limit.softMicros };
  return null;
}

export type AlertEvent = { kind: 'threshold'; threshold: number } | { kind: 'soft' };

/** Stable name of an event within a (limit, period): "pct:75" or "soft". */
export const eventKey = (e: AlertEvent) => (e.kind === 'soft' ? 'soft' : `pct:${e.threshold}`);

/**
 * Every event a spend has reached in the period. Evaluating "reached" (not "just crossed") makes
 * the job idempotent: a crossing during downtime is found on the next run, the outbox dedupes.
 */
export function reachedEvents(limit: LimitConfig, spendMicros: bigint): AlertEvent[] {
  const events: AlertEvent[] = [];
  const basis = alertBasis(limit);
  if (basis) {
    for (const t of limit.thresholds) {
      if (spendMicros * 100n >= basis.micros * BigInt(t)) events.push({ kind: 'threshold', threshold: t });
    }
  }
  // With only a soft limit, its 100% threshold already is the soft-limit alert.
  const softIsThreshold = basis?.kind === 'soft' && limit.thresholds.includes(100);
  if (limit.softMicros !== null && limit.softMicros > 0n && !softIsThreshold && spendMicros >= limit.softMicros) {
    events.push({ kind: 'soft' });
  }
  return events;
}

/** Events reached at `after` but not yet at `before` (spend only grows within a period). */
export function newlyCrossed(limit: LimitConfig, beforeMicros: bigint, afterMicros: bigint): AlertEvent[] {
  const had = new Set(reachedEvents(limit, beforeMicros).map(eventKey));
  return reachedEvents(limit, afterMicros).filter((e) => !had.has(eventKey(e)));
}

/**
 * When the spend reaches `limitMicros` if it keeps the average rate of the period so far.
 * Null when nothing was spent, the limit is already reached, or the date falls after the period.
 */
export function projectLimitDate(spendMicros: bigint, limitMicros: bigint | null, period: Period, now: Date): Date | null {
  if (limitMicros === null || spendMicros <= 0n || spendMicros >= limitMicros) return null;
  const elapsed = now.getTime() - period.start.getTime();
  if (elapsed <= 0 || now >= period.end) return null;
  const rate = Number(spendMicros) / elapsed;
  const at = now.getTime() + Number(limitMicros - spendMicros) / rate;
  return at < period.end.getTime() ? new Date(Math.ceil(at)) : null;
}

export interface TopKey {
  id: string;
  name: string;
  costMicros: bigint;
}

export interface AlertInput {
  /** Outbox row id, or `${limitId}:${period.key}:${eventKey}`: receivers dedupe on it. */
  id: string;
  event: AlertEvent;
  scope: { kind: 'project'; id: string; name: string } | { kind: 'org'; id: string; name: string };
  period: Period;
  limit: LimitConfig;
  spendMicros: bigint;
  topKeys: TopKey[];
  now: Date;
}

/** JSON-safe (no bigint): the webhook body as is, and the data of the Slack message. */
export interface AlertPayload {
  version: 1;
  id: string;
  type: 'limit.threshold' | 'limit.soft';
  threshold: number | null;
  scope: 'project' | 'org';
  project: { id: string; name: string } | null;
  org: { id: string; name: string } | null;
  period: { key: string; start: string; end: string; timeZone: string };
  spend: Money;
  /** The limit the percentage refers to. */
  limit: Money & { kind: 'hard' | 'soft' };
  hardLimit: Money | null;
  softLimit: Money | null;
  /** Spend as a percentage of `limit`, one decimal, rounded down (never shows 50% before 50%). */
  percentage: number;
  /** When the hard limit is reached at the period's average rate so far (ISO), or null. */
  projectedLimitAt: string | null;
  topKeys: Array<{ id: string; name: string; cost: Money }>;
  actions: string[];
  createdAt: string;
}

export interface Money {
  micros: number;
  usd: string;
}

const money = (m: bigint): Money => ({ micros: Number(m), usd: formatUsd(m) });

export function buildAlertPayload(input: AlertInput, maxKeys = 5): AlertPayload {
  const { limit, event, scope } = input;
  const basis =
    event.kind === 'soft' ? { kind: 'soft' as const, micros: limit.softMicros ?? 0n } : (alertBasis(limit) ?? { kind: 'hard' as const, micros: 0n });
  const where = scope.kind === 'project' ? scope.name : 'org';
  const actions = [
    `Raise or change the limit: /limits set ${where} …`,
    `Stop a key you do not recognise: /keys list${scope.kind === 'project' ? ` ${scope.name}` : ''}, then /keys revoke <key-id>`,
  ];
  if (limit.hardMicros !== null && input.spendMicros >= limit.hardMicros) {
    actions.unshift('The hard limit is reached: requests are refused until the limit is raised or the period ends.');
  }
  return {
    version: 1,
    id: input.id,
    type: event.kind === 'soft' ? 'limit.soft' : 'limit.threshold',
    threshold: event.kind === 'threshold' ? event.threshold : null,
    scope: scope.kind,
    project: scope.kind === 'project' ? { id: scope.id, name: scope.name } : null,
    org: scope.kind === 'org' ? { id: scope.id, name: scope.name } : null,
    period: { key: input.period.key, start: input.period.start.toISOString(), end: input.period.end.toISOString(), timeZone: input.period.timeZone },
    spend: money(input.spendMicros),
    limit: { ...money(basis.micros), kind: basis.kind },
    hardLimit: limit.hardMicros === null ? null : money(limit.hardMicros),
    softLimit: limit.softMicros === null ? null : money(limit.softMicros),
    percentage: percentOf(input.spendMicros, basis.micros),
    projectedLimitAt: projectLimitDate(input.spendMicros, limit.hardMicros, input.period, input.now)?.toISOString() ?? null,
    topKeys: [...input.topKeys]
      .sort((a, b) => (a.costMicros === b.costMicros ? a.name.localeCompare(b.name) : a.costMicros > b.costMicros ? -1 : 1))
      .slice(0, maxKeys)
      .map((k) => ({ id: k.id, name: k.name, cost: money(k.costMicros) })),
    actions,
    createdAt: input.now.toISOString(),
  };
}

/** One line for notifications and logs: "Project *web* reached 75% of its hard limit ($75.00 of $100.00)". */
export function alertHeadline(p: AlertPayload): string {
  const who = p.project ? `Project ${p.project.name}` : `Org ${p.org?.name ?? ''}`.trim();
  if (p.type === 'limit.soft') return `${who} passed its soft limit: ${p.spend.usd} of ${p.limit.usd} this period (${p.period.key}).`;
  return `${who} reached ${p.threshold}% of its ${p.limit.kind} limit: ${p.spend.usd} of ${p.limit.usd} (${p.period.key}).`;
}
