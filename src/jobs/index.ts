/** Builds the jobs' dependencies from the configuration and starts the scheduler (src/main.ts). */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/index.js';
import { DEFAULT_ROTATION } from '../domain/jobs.js';
import type { Services } from '../services/index.js';
import { WebClientNotifier } from '../services/notifier.js';
import type { UsageWriter } from '../services/usage.js';
import { AlertTrigger } from './alert-trigger.js';
import type { JobDeps } from './context.js';
import { Scheduler } from './scheduler.js';

export function createJobDeps(opts: { config: Config; services: Services; slackClient: WebClient | null }): JobDeps {
  const { config, services, slackClient } = opts;
  return {
    services,
    slackClient,
    notifier: slackClient ? new WebClientNotifier(slackClient) : null,
    admins: config.admins,
    instanceId: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    rotation: { ...DEFAULT_ROTATION, maxAgeDays: config.jobs.rotationDays },
    digestCron: config.jobs.digestCron,
  };
}

/** `usage`: the gateway's writer; a flush that crosses a threshold evaluates alerts at once. */
export function startScheduler(opts: { config: Config; services: Services; slackClient: WebClient | null; usage?: UsageWriter }): Scheduler {
  const clock = () => opts.services.deps.now?.() ?? new Date();
  const deps = createJobDeps(opts);
  const scheduler = new Scheduler(deps, clock);
  if (opts.usage) {
    const trigger = new AlertTrigger(deps, clock);
    opts.usage.onSpend(trigger.onSpend);
    scheduler.onStop(() => trigger.stop());
  }
  scheduler.start();
  return scheduler;
}

export { AlertTrigger } from './alert-trigger.js';
export { Scheduler, JOB_NAMES, parseJobName, type JobName } from './scheduler.js';
export type { JobDeps, JobResult } from './context.js';
