/** Housekeeping: old idempotency/event records, finished job slots and delivered alerts. */
import { dbOf, type JobDeps, type JobResult } from './context.js';

const DAY = 86_400_000;
/** Slack retries arrive within minutes; CLI/Slack repeats within a day. A week is plenty. */
export const IDEMPOTENCY_KEEP_DAYS = 7;
export const JOB_RUN_KEEP_DAYS = 30;
/** Alerts stay a year and a bit: the (limit, period, event) key must outlive its period. */
export const ALERT_KEEP_DAYS = 400;

export async function runCleanup(now: Date, deps: JobDeps): Promise<JobResult> {
  const db = dbOf(deps);
  const before = (days: number) => new Date(now.getTime() - days * DAY);
  const where = {
    idempotency: { createdAt: { lt: before(IDEMPOTENCY_KEEP_DAYS) } },
    jobRuns: { finishedAt: { lt: before(JOB_RUN_KEEP_DAYS) } },
    alerts: { sentAt: { lt: before(ALERT_KEEP_DAYS) } },
  };
  if (deps.dryRun) {
    const [a, b, c] = await Promise.all([db.idempotencyRecord.count({ where: where.idempotency }), db.jobRun.count({ where: where.jobRuns }), db.alert.count({ where: where.alerts })]);
    return { lines: [`would delete ${a} idempotency records, ${b} job runs, ${c} alerts`] };
  }
  const a = await db.idempotencyRecord.deleteMany({ where: where.idempotency });
  const b = await db.jobRun.deleteMany({ where: where.jobRuns });
  const c = await db.alert.deleteMany({ where: where.alerts });
  return { lines: a.count + b.count + c.count ? [`deleted ${a.count} idempotency records, ${b.count} job runs, ${c.count} alerts`] : [] };
}
