/** Housekeeping: old idempotency/event records, finished job slots, delivered alerts and key changes. */
import { dbOf, type JobDeps, type JobResult } from './context.js';

const DAY = 86_400_000;
/** Slack retries arrive within minutes; CLI/Slack repeats within a day. A week is plenty. */
export const IDEMPOTENCY_KEEP_DAYS = 7;
export const JOB_RUN_KEEP_DAYS = 30;
/** Alerts stay a year and a bit: the (limit, period, event) key must outlive its period. */
export const ALERT_KEEP_DAYS = 400;
/**
 * Gateways read each key change within a second of its commit (ids commit in order, see
 * services/key-changes.ts); a week is far more than any replica lags. The newest row always stays:
 * a starting gateway takes its cursor from it.
 */
export const KEY_CHANGE_KEEP_DAYS = 7;

export async function runCleanup(now: Date, deps: JobDeps): Promise<JobResult> {
  const db = dbOf(deps);
  const before = (days: number) => new Date(now.getTime() - days * DAY);
  const newestKeyChange = await db.keyChange.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
  const where = {
    idempotency: { createdAt: { lt: before(IDEMPOTENCY_KEEP_DAYS) } },
    jobRuns: { finishedAt: { lt: before(JOB_RUN_KEEP_DAYS) } },
    alerts: { sentAt: { lt: before(ALERT_KEEP_DAYS) } },
    keyChanges: { createdAt: { lt: before(KEY_CHANGE_KEEP_DAYS) }, id: { lt: newestKeyChange?.id ?? 0 } },
  };
  if (deps.dryRun) {
    const [a, b, c, d] = await Promise.all([db.idempotencyRecord.count({ where: where.idempotency }), db.jobRun.count({ where: where.jobRuns }), db.alert.count({ where: where.alerts }), db.keyChange.count({ where: where.keyChanges })]);
    return { lines: [`would delete ${a} idempotency records, ${b} job runs, ${c} alerts, ${d} key changes`] };
  }
  const a = await db.idempotencyRecord.deleteMany({ where: where.idempotency });
  const b = await db.jobRun.deleteMany({ where: where.jobRuns });
  const c = await db.alert.deleteMany({ where: where.alerts });
  const d = await db.keyChange.deleteMany({ where: where.keyChanges });
  return { lines: a.count + b.count + c.count + d.count ? [`deleted ${a.count} idempotency records, ${b.count} job runs, ${c.count} alerts, ${d.count} key changes`] : [] };
}
