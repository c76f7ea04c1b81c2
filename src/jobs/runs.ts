/**
 * Job run slots (flows.md §4): a process runs `(job, slot)` only after inserting its row; the unique
 * key makes that exactly once across replicas. A claim still "running" after the job's timeout is
 * presumed dead and may be taken over by one other process (conditional update).
 */
import type { Db } from '../db/client.js';
import { claimExpired, type JobDefinition } from '../domain/jobs.js';
import { isUniqueViolation } from '../db/errors.js';

export async function claimSlot(db: Db, job: JobDefinition, slot: Date, instanceId: string, now: Date): Promise<boolean> {
  try {
    await db.jobRun.create({ data: { job: job.name, slot, claimedBy: instanceId, claimedAt: now, status: 'running' } });
    return true;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
  const row = await db.jobRun.findUnique({ where: { job_slot: { job: job.name, slot } } });
  if (!row || row.status !== 'running' || !claimExpired(job, row.claimedAt, now)) return false;
  const taken = await db.jobRun.updateMany({
    where: { job: job.name, slot, status: 'running', claimedAt: row.claimedAt },
    data: { claimedBy: instanceId, claimedAt: now },
  });
  return taken.count === 1;
}

export async function finishSlot(db: Db, job: string, slot: Date, instanceId: string, now: Date, outcome: { error?: string; result?: unknown }) {
  await db.jobRun.updateMany({
    where: { job, slot, claimedBy: instanceId },
    data: {
      finishedAt: now,
      status: outcome.error ? 'failed' : 'done',
      error: outcome.error?.slice(0, 1000) ?? null,
      result: outcome.result === undefined ? null : JSON.stringify(outcome.result).slice(0, 4000),
    },
  });
}

/** The latest slot any process claimed for a job (for catch-up at start-up). */
export async function lastClaimed(db: Db, job: string): Promise<Date | null> {
  const row = await db.jobRun.findFirst({ where: { job }, orderBy: { slot: 'desc' }, select: { slot: true } });
  return row?.slot ?? null;
}
