/**
 * The scheduler: node-cron only provides ticks; every tick claims the job's due slot in the database
 * (JobRun) and only the claimer runs it, so several replicas run each slot once. At start each job
 * runs its latest missed slot once (catch-up), and a claim left by a dead process is taken over
 * after the job's timeout. Job functions are `(now, deps)` and know nothing about timers.
 */
import { schedule, type ScheduledTask } from 'node-cron';
import { dueSlot, JOBS, type JobDefinition } from '../domain/jobs.js';
import { runAlerts } from './alerts.js';
import { runCleanup } from './cleanup.js';
import { dbOf, logOf, tzOf, type JobDeps, type JobFn, type JobResult } from './context.js';
import { runDigest, runDueDigests } from './digest.js';
import { runExpiry, runRevealExpiry } from './expiry.js';
import { runApprovalExpiry, runQuarterlyReview, runReviewReminders } from './governance.js';
import { runReminders } from './reminders.js';
import { claimSlot, finishSlot, lastClaimed } from './runs.js';
import { runStatements } from './statements.js';

/** Names accepted by `/keyward run <job>` and `keyward run <job>`. */
export const JOB_NAMES = ['alerts', 'expiry', 'reveal', 'digest', 'reminders', 'statements', 'cleanup', 'approvals', 'review-start', 'review-reminders'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface JobEntry {
  def: JobDefinition;
  /** What a manual run (`/keyward run`) does. */
  fn: JobFn;
  /** Ticks run this instead, without a slot claim of their own: it claims finer slots itself (per-org digest). */
  scheduled?: JobFn;
}

export function jobTable(deps: Pick<JobDeps, 'digestCron'>): Record<JobName, JobEntry> {
  return {
    alerts: { def: JOBS.alerts, fn: runAlerts },
    expiry: { def: JOBS.expiry, fn: runExpiry },
    reveal: { def: { name: 'reveal-expiry', cron: '* * * * *', timeoutMs: 5 * 60_000, catchUp: false }, fn: runRevealExpiry },
    // Checked every minute: each org follows its own cron (default deps.digestCron) under (digest:<org>, slot) claims.
    digest: { def: { ...JOBS.digest, cron: '* * * * *', timeoutMs: 5 * 60_000, catchUp: false }, fn: runDigest, scheduled: runDueDigests },
    reminders: { def: JOBS.rotationReminders, fn: runReminders },
    statements: { def: JOBS.statement, fn: runStatements },
    cleanup: { def: { name: 'cleanup', cron: '17 3 * * *', timeoutMs: 30 * 60_000, catchUp: true }, fn: runCleanup },
    // Issue 5: key request expiry; quarterly review start (00:05 daily, the (org, quarter) slot runs once); review reminders.
    approvals: { def: { name: 'approval-expiry', cron: '* * * * *', timeoutMs: 5 * 60_000, catchUp: false }, fn: runApprovalExpiry },
    'review-start': { def: { name: 'review-start', cron: '5 0 * * *', timeoutMs: 30 * 60_000, catchUp: true }, fn: runQuarterlyReview },
    'review-reminders': { def: { name: 'review-reminders', cron: '0 9 * * *', timeoutMs: 30 * 60_000, catchUp: true }, fn: runReviewReminders },
  };
}

export function parseJobName(raw: string): JobName | null {
  const v = raw.trim().toLowerCase();
  const aliases: Record<string, JobName> = { 'rotation-reminders': 'reminders', statement: 'statements', 'reveal-expiry': 'reveal', alert: 'alerts' };
  const name = aliases[v] ?? v;
  return (JOB_NAMES as readonly string[]).includes(name) ? (name as JobName) : null;
}

export type TickOutcome = { ran: false; reason: 'not due' | 'claimed elsewhere' } | { ran: true; slot: Date; result?: JobResult; error?: string };

export class Scheduler {
  private readonly table: Record<JobName, JobEntry>;
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly stopHooks: (() => Promise<void>)[] = [];

  constructor(
    private readonly deps: JobDeps,
    private readonly clock: () => Date = () => new Date(),
    private readonly jobs: readonly JobName[] = JOB_NAMES,
  ) {
    this.table = jobTable(deps);
  }

  /** Runs the job's due slot if this process claims it. `catchUp` also considers an older missed slot. */
  async tick(name: JobName, now = this.clock(), opts: { catchUp?: boolean } = {}): Promise<TickOutcome> {
    const { def, fn, scheduled } = this.table[name];
    if (scheduled) return this.dispatch(def, scheduled, now);
    const db = dbOf(this.deps);
    const slot = dueSlot(def, now, tzOf(this.deps), opts.catchUp ? await lastClaimed(db, def.name) : null);
    if (!slot) return { ran: false, reason: 'not due' };
    if (!(await claimSlot(db, def, slot, this.deps.instanceId, now))) return { ran: false, reason: 'claimed elsewhere' };
    const log = logOf(this.deps).child({ job: def.name, slot: slot.toISOString() });
    try {
      const result = await fn(now, this.deps);
      await finishSlot(db, def.name, slot, this.deps.instanceId, this.clock(), { result: result.lines.slice(0, 50) });
      if (result.lines.length) log.info({ lines: result.lines.slice(0, 20) }, 'job ran');
      return { ran: true, slot, result };
    } catch (error) {
      // A failing job never takes the process down; the slot is marked failed with the reason.
      log.error({ err: error }, 'job failed');
      await finishSlot(db, def.name, slot, this.deps.instanceId, this.clock(), { error: String(error) }).catch(() => {});
      return { ran: true, slot, error: String(error) };
    }
  }

  /** A job that claims its own slots: reported as run when it did something. */
  private async dispatch(def: JobDefinition, fn: JobFn, now: Date): Promise<TickOutcome> {
    try {
      const result = await fn(now, this.deps);
      if (result.lines.length === 0) return { ran: false, reason: 'not due' };
      logOf(this.deps).child({ job: def.name }).info({ lines: result.lines.slice(0, 20) }, 'job ran');
      return { ran: true, slot: now, result };
    } catch (error) {
      logOf(this.deps).error({ err: error, job: def.name }, 'job failed');
      return { ran: true, slot: now, error: String(error) };
    }
  }

  /** Schedules every job with node-cron and catches up missed slots once. */
  start(): void {
    const tz = tzOf(this.deps);
    for (const name of this.jobs) {
      const { def } = this.table[name];
      const task = schedule(def.cron, () => this.track(this.tick(name)), { name: `keyward-${def.name}`, timezone: tz, noOverlap: true });
      this.tasks.push(task);
    }
    for (const name of this.jobs) this.track(this.tick(name, this.clock(), { catchUp: true }));
    logOf(this.deps).info({ jobs: this.jobs, timezone: tz }, 'scheduler started');
  }

  private track<T>(p: Promise<T>): Promise<T | undefined> {
    const guarded = p.catch((error: unknown) => {
      logOf(this.deps).error({ err: error }, 'scheduler tick failed');
      return undefined;
    });
    if (this.stopped) return guarded;
    this.running.add(guarded);
    void guarded.finally(() => this.running.delete(guarded));
    return guarded;
  }

  /** Something to stop and wait for with the scheduler (the alert trigger). */
  onStop(hook: () => Promise<void>): void {
    this.stopHooks.push(hook);
  }

  /** Stops the ticks and waits for runs in progress (SIGTERM). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.tasks) await t.stop();
    this.tasks.length = 0;
    await Promise.all([...this.running, ...this.stopHooks.map((h) => h())]);
  }

  /** `/keyward run <job> [--dry-run]`: runs now, outside the slot claims (a dry run writes nothing). */
  async runNow(name: JobName, deps: JobDeps = this.deps, now = this.clock()): Promise<JobResult> {
    return this.table[name].fn(now, deps);
  }
}
