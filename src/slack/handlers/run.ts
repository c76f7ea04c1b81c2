/**
 * `/keyward run <job> [--dry-run]` (org admins): runs a scheduled job now. A dry run computes what
 * would be sent through a recording notifier, sends nothing, writes nothing and claims no slot.
 */
import type { WebClient } from '@slack/web-api';
import type { Config } from '../../config/index.js';
import { DEFAULT_ROTATION } from '../../domain/jobs.js';
import { forbidden, invalid } from '../../domain/errors.js';
import type { JobDeps } from '../../jobs/context.js';
import { JOB_NAMES, jobTable, parseJobName } from '../../jobs/scheduler.js';
import type { Actor } from '../../services/index.js';
import { RecordingNotifier, WebClientNotifier } from '../../services/notifier.js';
import type { SlackDeps } from '../context.js';
import { clip } from '../parse.js';
import type { Message } from '../views/common.js';
import { jobRunMessage } from '../views/limits.js';

const settings = new WeakMap<SlackDeps, { digestCron: string; rotationDays: number }>();

/** Called once by createSlackApp: the job knobs come from the configuration. */
export function configureJobRun(deps: SlackDeps, config: Config): void {
  settings.set(deps, { digestCron: config.jobs.digestCron, rotationDays: config.jobs.rotationDays });
}

/** KEYWARD_DIGEST_CRON and the rotation age as configured (defaults when not configured). */
export const jobSettingsOf = (deps: SlackDeps) => settings.get(deps) ?? { digestCron: '0 9 * * 1', rotationDays: DEFAULT_ROTATION.maxAgeDays };

export async function runJobCommand(deps: SlackDeps, client: WebClient, actor: Actor, args: string[]): Promise<Message> {
  if (!actor.orgAdmin) throw forbidden('Only organisation admins can run scheduled jobs.');
  const dryRun = args.some((a) => a === '--dry-run' || a === '--dryrun');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknownFlag = args.find((a) => a.startsWith('--') && a !== '--dry-run' && a !== '--dryrun');
  if (unknownFlag) throw invalid(`Unknown option "${clip(unknownFlag)}": only --dry-run.`);
  const job = names.length === 1 ? parseJobName(names[0]!) : null;
  if (!job) throw invalid(`Which job? \`/keyward run <${JOB_NAMES.join('|')}> [--dry-run]\`.`);
  const s = jobSettingsOf(deps);
  const recorder = new RecordingNotifier();
  const jobDeps: JobDeps = {
    services: deps.services,
    notifier: dryRun ? recorder : new WebClientNotifier(client),
    slackClient: client,
    admins: await deps.admins.list(actor.orgId),
    instanceId: `manual:${actor.id}`,
    rotation: { ...DEFAULT_ROTATION, maxAgeDays: s.rotationDays },
    digestCron: s.digestCron,
    dryRun,
  };
  const result = await jobTable(jobDeps)[job].fn(deps.now(), jobDeps);
  deps.logger.info({ job, dryRun, actor: actor.id, actions: result.lines.length }, 'job run by an admin');
  return jobRunMessage({
    job,
    dryRun,
    lines: result.lines,
    sent: recorder.sent.map((x) => ({ kind: x.kind, to: x.to, text: x.message?.text ?? x.file?.filename })),
  });
}
