/** `keyward run <job> [--dry-run]`: run a scheduled job now (Slack jobs need SLACK_BOT_TOKEN). */
import { WebClient } from '@slack/web-api';
import { DEFAULT_ROTATION } from '../../domain/jobs.js';
import type { JobDeps } from '../../jobs/context.js';
import { JOB_NAMES, jobTable, parseJobName, type JobName } from '../../jobs/scheduler.js';
import { RecordingNotifier, WebClientNotifier } from '../../services/notifier.js';
import { UsageError, type Tokens } from '../args.js';
import { command, type Command } from '../spec.js';
import { need } from './shared.js';

export const runCommand: Command = command({
  path: ['run'],
  args: `<${JOB_NAMES.join('|')}> [--dry-run]`,
  summary: 'Run a scheduled job now; --dry-run shows what it would send and changes nothing.',
  flags: ['dry-run'],
  details: 'Jobs that post to Slack use SLACK_BOT_TOKEN; without it they do nothing (a dry run still shows the messages).',
  examples: ['keyward run digest --dry-run', 'keyward run alerts', 'keyward run statements --dry-run --json'],
  needs: 'org',
  parse: (t: Tokens) => {
    const [raw] = need(t, 1, 'run', `a job name (${JOB_NAMES.join(', ')})`, 1);
    const job = parseJobName(raw!);
    if (!job) throw new UsageError(`unknown job "${raw!.slice(0, 40)}": use one of ${JOB_NAMES.join(', ')}`, 'run');
    return { job: job as JobName, dryRun: t.flags['dry-run'] === true };
  },
  async run(ctx, input) {
    const client = ctx.config.slack.botToken ? new WebClient(ctx.config.slack.botToken, { slackApiUrl: ctx.config.slack.apiUrl, timeout: 10_000 }) : null;
    const recorder = new RecordingNotifier();
    const deps: JobDeps = {
      services: ctx.services,
      notifier: input.dryRun ? recorder : client && new WebClientNotifier(client),
      slackClient: client,
      admins: ctx.config.admins,
      instanceId: `manual:${ctx.actor.id}`,
      rotation: { ...DEFAULT_ROTATION, maxAgeDays: ctx.config.jobs.rotationDays },
      digestCron: ctx.config.jobs.digestCron,
      dryRun: input.dryRun,
    };
    const result = await jobTable(deps)[input.job].fn(ctx.now(), deps);
    const sent = recorder.sent.map((s) => ({ kind: s.kind, to: s.to, text: s.message?.text ?? s.file?.filename ?? null }));
    if (ctx.json) return ctx.emit({ job: input.job, dryRun: input.dryRun, lines: result.lines, wouldSend: input.dryRun ? sent : undefined });
    if (!deps.notifier) ctx.warn('SLACK_BOT_TOKEN is not set: Slack messages are skipped.');
    for (const l of result.lines) ctx.print(l);
    for (const s of sent) ctx.print(`would send ${s.kind} to ${s.to}: ${s.text ?? ''}`);
    if (result.lines.length === 0 && sent.length === 0) ctx.print(input.dryRun ? 'Nothing would be sent right now.' : 'Nothing to do right now.');
  },
});
