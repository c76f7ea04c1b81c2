/** What every job gets besides `now`: services, the Slack port (null when Slack is not configured) and knobs. */
import type { WebClient } from '@slack/web-api';
import type { RotationPolicy } from '../domain/jobs.js';
import type { Services } from '../services/index.js';
import type { SlackNotifier } from '../services/notifier.js';

export interface JobDeps {
  services: Services;
  notifier: SlackNotifier | null;
  /** Raw client for helpers that take one (expireRevealButtons). */
  slackClient: WebClient | null;
  /** KEYWARD_ADMINS: told about org-level alerts and delivery problems. */
  admins: string[];
  instanceId: string;
  rotation: RotationPolicy;
  /** Weekly digest schedule (cron in the org time zone). */
  digestCron: string;
  /** Retry jitter in [0, 1); fixed in tests. */
  jitter?: () => number;
  /** Compute and report, send nothing, write nothing. */
  dryRun?: boolean;
}

/** What a run did (or, in a dry run, would do): one line per action, for logs and `/keyward run`. */
export interface JobResult {
  lines: string[];
}

export type JobFn = (now: Date, deps: JobDeps) => Promise<JobResult>;

export const tzOf = (deps: JobDeps) => deps.services.deps.timezone ?? 'UTC';
export const dbOf = (deps: JobDeps) => deps.services.deps.db;
export const logOf = (deps: JobDeps) => deps.services.deps.logger;
