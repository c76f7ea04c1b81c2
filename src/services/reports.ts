/**
 * Usage read from the daily rollups (never raw events): totals with error split and latency,
 * breakdowns by key and model, daily points for charts, statement rows, spend against limits.
 * `UsageReportService` adds permissions for `/usage`, App Home and the CLI.
 */
import type { Db } from '../db/client.js';
import { periodOf, parsePeriodKey, previousPeriod, type Period, type PeriodKind } from '../domain/calendar.js';
import type { DueKey } from '../domain/digest.js';
import { forbidden, invalid } from '../domain/errors.js';
import { rotationDue, type RotationPolicy } from '../domain/jobs.js';
import { monthPeriod, periodDayRange } from '../domain/periods.js';
import { emptyTotals, quantileFromHistogram, LATENCY_BUCKETS_MS, type Breakdown, type LimitStatus, type UsageTotals } from '../domain/report.js';
import type { StatementRow } from '../domain/statement.js';
import { statementCsv, statementFilename } from '../domain/statement.js';
import type { DailyPoint } from '../charts/data.js';
import { nowOf, tzOf, type Actor, type ServiceDeps } from './context.js';
import { orgLimitId, projectLimitId } from './limits.js';
import type { ProjectService } from './projects.js';

/** Which rollup rows: one project, several, or the whole org. */
export type UsageScope = { projectIds: string[] } | { orgId: string };

const whereOf = (scope: UsageScope, p: Period) => {
  const { from, to } = periodDayRange(p);
  return { ...('orgId' in scope ? { orgId: scope.orgId } : { projectId: { in: scope.projectIds } }), day: { gte: from, lt: to } };
};

export async function usageTotals(db: Db, scope: UsageScope, p: Period): Promise<UsageTotals> {
  const where = whereOf(scope, p);
  const [agg, hist] = await Promise.all([
    db.usageDaily.aggregate({
      where,
      _sum: {
        requests: true, inputTokens: true, outputTokens: true, cacheReadTokens: true, cacheWriteTokens: true, costMicros: true,
        err401: true, err403: true, err429: true, err5xx: true, errOther: true, latencyMsSum: true,
      },
    }),
    db.usageLatencyDaily.groupBy({ by: ['bucket'], where, _sum: { count: true } }),
  ]);
  const s = agg._sum;
  const requests = s.requests ?? 0;
  if (requests === 0) return emptyTotals();
  const counts = Array.from({ length: LATENCY_BUCKETS_MS.length + 1 }, () => 0);
  for (const h of hist) counts[h.bucket] = (counts[h.bucket] ?? 0) + (h._sum.count ?? 0);
  return {
    requests,
    inputTokens: Number(s.inputTokens ?? 0n),
    outputTokens: Number(s.outputTokens ?? 0n),
    cacheReadTokens: Number(s.cacheReadTokens ?? 0n),
    cacheWriteTokens: Number(s.cacheWriteTokens ?? 0n),
    costMicros: s.costMicros ?? 0n,
    errors: { unauthorized: s.err401 ?? 0, forbidden: s.err403 ?? 0, rateLimited: s.err429 ?? 0, server: s.err5xx ?? 0, other: s.errOther ?? 0 },
    latencyAvgMs: Number(s.latencyMsSum ?? 0n) / requests,
    latencyP95Ms: quantileFromHistogram(counts, 0.95),
  };
}

const tokensOf = (s: { inputTokens: bigint | null; outputTokens: bigint | null; cacheReadTokens: bigint | null; cacheWriteTokens: bigint | null }) =>
  Number((s.inputTokens ?? 0n) + (s.outputTokens ?? 0n) + (s.cacheReadTokens ?? 0n) + (s.cacheWriteTokens ?? 0n));

const SUMS = { requests: true, inputTokens: true, outputTokens: true, cacheReadTokens: true, cacheWriteTokens: true, costMicros: true } as const;

/** Per key (labels are key names) or per model. */
export async function breakdown(db: Db, scope: UsageScope, p: Period, by: 'keyId' | 'model'): Promise<Breakdown[]> {
  const rows = await db.usageDaily.groupBy({ by: [by], where: whereOf(scope, p), _sum: SUMS });
  const names =
    by === 'keyId'
      ? new Map((await db.apiKey.findMany({ where: { id: { in: rows.map((r) => r.keyId!) } }, select: { id: true, name: true } })).map((k) => [k.id, k.name]))
      : null;
  return rows.map((r) => {
    const id = (by === 'keyId' ? r.keyId : r.model) as string;
    return { id, label: names?.get(id) ?? id, requests: r._sum.requests ?? 0, tokens: tokensOf(r._sum), costMicros: r._sum.costMicros ?? 0n };
  });
}

/** Chart input: tokens and cost per project and local day. */
export async function dailyPoints(db: Db, scope: UsageScope, p: Period): Promise<DailyPoint[]> {
  const rows = await db.usageDaily.groupBy({ by: ['day', 'projectId'], where: whereOf(scope, p), _sum: SUMS });
  const names = new Map((await db.project.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.projectId))] } }, select: { id: true, name: true } })).map((x) => [x.id, x.name]));
  return rows.map((r) => ({ day: r.day, project: names.get(r.projectId) ?? r.projectId, tokens: tokensOf(r._sum), costMicros: r._sum.costMicros ?? 0n }));
}

/** Statement rows of one project and month (per key and model). */
export async function statementRows(db: Db, projectId: string, month: Period): Promise<StatementRow[]> {
  const rows = await db.usageDaily.groupBy({ by: ['keyId', 'model'], where: whereOf({ projectIds: [projectId] }, month), _sum: SUMS });
  const names = new Map((await db.apiKey.findMany({ where: { id: { in: rows.map((r) => r.keyId) } }, select: { id: true, name: true } })).map((k) => [k.id, k.name]));
  return rows.map((r) => ({
    keyId: r.keyId, keyName: names.get(r.keyId) ?? '', model: r.model, requests: r._sum.requests ?? 0,
    inputTokens: Number(r._sum.inputTokens ?? 0n), outputTokens: Number(r._sum.outputTokens ?? 0n),
    cacheReadTokens: Number(r._sum.cacheReadTokens ?? 0n), cacheWriteTokens: Number(r._sum.cacheWriteTokens ?? 0n),
    costMicros: r._sum.costMicros ?? 0n,
  }));
}

/** Month-to-date spend (settled by the gateway) against a limit row, or null without hard/soft limit. */
export async function limitStatus(db: Db, limitId: string, now: Date, tz: string): Promise<LimitStatus | null> {
  const [limit, budget] = await Promise.all([
    db.limit.findUnique({ where: { id: limitId } }),
    db.budget.findUnique({ where: { limitId_period: { limitId, period: monthPeriod(now, tz).key } } }),
  ]);
  if (!limit || (limit.hardMicros === null && limit.softMicros === null)) return null;
  return { spendMicros: budget?.spentMicros ?? 0n, hardMicros: limit.hardMicros, softMicros: limit.softMicros };
}

/** Active keys of some projects that are due for rotation. */
export async function dueKeys(db: Db, where: { orgId: string; projectIds?: string[] }, now: Date, policy?: RotationPolicy): Promise<DueKey[]> {
  const keys = await db.apiKey.findMany({
    where: { orgId: where.orgId, status: 'active', ...(where.projectIds ? { projectId: { in: where.projectIds } } : {}), project: { archivedAt: null } },
    include: { project: { select: { name: true } } },
  });
  const out: DueKey[] = [];
  for (const k of keys) {
    const due = rotationDue(k, now, policy);
    if (due) out.push({ id: k.id, name: k.name, projectName: k.project.name, ownerId: k.ownerId, due });
  }
  return out;
}

export interface UsageReport {
  scope: { kind: 'project' | 'org'; name: string; id: string };
  period: Period;
  previousKey: string;
  current: UsageTotals;
  previous: UsageTotals;
  topKeys: Breakdown[];
  topModels: Breakdown[];
  limit: LimitStatus | null;
}

/** `/usage`, App Home and `keyward usage`: Viewers and above see a project; org admins see `org`. */
export class UsageReportService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly projects: ProjectService,
  ) {}

  private now() {
    return nowOf(this.deps);
  }
  get tz() {
    return tzOf(this.deps);
  }

  /** A person's own projects (org admins too: "my projects", not all); the CLI sees every project. */
  private mine(actor: Actor) {
    return this.projects.list(actor.userId ? { ...actor, orgAdmin: false } : actor);
  }

  /** Targets the actor asked for: one project, `org`, or (null) every project they belong to. */
  private async targets(actor: Actor, target: string | null): Promise<Array<{ kind: 'project' | 'org'; id: string; name: string }>> {
    if (target && target.trim().toLowerCase() === 'org') {
      if (!actor.orgAdmin) throw forbidden('Only organisation admins can see the usage of the whole org. Ask for one of your projects instead.');
      return [{ kind: 'org', id: actor.orgId, name: 'org' }];
    }
    if (target) {
      const { project } = await this.projects.require(actor, target, 'usage.view', { allowArchived: true });
      return [{ kind: 'project', id: project.id, name: project.name }];
    }
    const mine = await this.mine(actor);
    return mine.map((p) => ({ kind: 'project' as const, id: p.id, name: p.name }));
  }

  async report(actor: Actor, target: string | null, kind: PeriodKind = 'month'): Promise<UsageReport[]> {
    const now = this.now();
    const period = periodOf(kind, now, this.tz);
    const prev = previousPeriod(period);
    const { db } = this.deps;
    const out: UsageReport[] = [];
    for (const t of await this.targets(actor, target)) {
      const scope: UsageScope = t.kind === 'org' ? { orgId: t.id } : { projectIds: [t.id] };
      const detailed = target !== null;
      const [current, previous, topKeys, topModels, limit] = await Promise.all([
        usageTotals(db, scope, period),
        usageTotals(db, scope, prev),
        detailed ? breakdown(db, scope, period, 'keyId') : [],
        detailed ? breakdown(db, scope, period, 'model') : [],
        limitStatus(db, t.kind === 'org' ? orgLimitId(t.id) : projectLimitId(t.id), now, this.tz),
      ]);
      out.push({ scope: t, period, previousKey: prev.key, current, previous, topKeys, topModels, limit });
    }
    return out;
  }

  /** Daily cost per project over the period, for `--chart` (rendered by the caller). */
  async chartPoints(actor: Actor, target: string | null, kind: PeriodKind = 'month') {
    const period = periodOf(kind, this.now(), this.tz);
    const targets = await this.targets(actor, target);
    const scope: UsageScope = targets[0]?.kind === 'org' ? { orgId: actor.orgId } : { projectIds: targets.map((t) => t.id) };
    return { period, points: targets.length ? await dailyPoints(this.deps.db, scope, period) : [] };
  }

  /** `/usage statement <project> <YYYY-MM>`: the monthly CSV of any month. */
  async statement(actor: Actor, projectName: string, month: string) {
    const period = parsePeriodKey(month, this.tz);
    if (period.kind !== 'month') throw invalid(`Statements are monthly: give a month like 2026-11 (got "${month.slice(0, 20)}").`);
    if (period.start > this.now()) throw invalid(`${period.key} has not started yet.`);
    const { project } = await this.projects.require(actor, projectName, 'usage.view', { allowArchived: true });
    const rows = await statementRows(this.deps.db, project.id, period);
    return { project: project.name, month: period.key, rows, csv: statementCsv({ month: period.key, project: project.name, rows }), filename: statementFilename(project.name, period.key) };
  }

  /** App Home: this month per project (vs the same number of days last month) and keys due. */
  async home(actor: Actor, policy?: RotationPolicy) {
    const now = this.now();
    const period = monthPeriod(now, this.tz);
    const prevFull = previousPeriod(period);
    const elapsed = now.getTime() - period.start.getTime();
    const prev: Period = { ...prevFull, end: new Date(Math.min(prevFull.end.getTime(), prevFull.start.getTime() + elapsed + 86_400_000)) };
    const mine = await this.mine(actor);
    const { db } = this.deps;
    const projects = await Promise.all(
      mine.map(async (p) => ({
        name: p.name,
        current: await usageTotals(db, { projectIds: [p.id] }, period),
        previous: await usageTotals(db, { projectIds: [p.id] }, prev),
        limit: await limitStatus(db, projectLimitId(p.id), now, this.tz),
      })),
    );
    const due = actor.userId ? (await dueKeys(db, { orgId: actor.orgId, projectIds: mine.map((p) => p.id) }, now, policy)).filter((k) => k.ownerId === actor.userId) : [];
    return { period, projects, dueKeys: due };
  }
}
