/**
 * CLI side of issue 5: `projects policy`, `approvals list`, `review start|status|close`. Decisions
 * on key requests stay in Slack (the approved secret is delivered to the requester's DM there).
 * When SLACK_BOT_TOKEN is set, review DMs and the close report go out from the CLI too.
 */
import { fmtTime } from '../../domain/calendar.js';
import { WebClient } from '@slack/web-api';
import { parsePolicy } from '../../domain/approvals.js';
import { parseProjectName } from '../../domain/projects.js';
import { parseDueDays, reviewProgress, type ReviewDecision } from '../../domain/reviews.js';
import { AdminResolver } from '../../slack/admins.js';
import type { SlackDeps } from '../../slack/context.js';
import { sendReviewDms } from '../../slack/handlers/reviews.js';
import { UsageError, type Tokens } from '../args.js';
import { table } from '../format.js';
import { command, type Command, type Ctx } from '../spec.js';
import { asUsage, need, str } from './shared.js';

/** Slack pieces for review DMs, or null when no bot token is configured. */
function slack(ctx: Ctx): { deps: SlackDeps; client: WebClient } | null {
  const token = ctx.config.slack.botToken;
  if (!token) return null;
  const { db, logger } = ctx.services.deps;
  const client = new WebClient(token, { slackApiUrl: ctx.config.slack.apiUrl, timeout: 10_000, retryConfig: { retries: 1 } });
  return { client, deps: { services: ctx.services, logger, now: ctx.now, admins: new AdminResolver(db, ctx.config.admins, logger, ctx.now) } };
}

export const governanceCommands: Command[] = [
  command({
    path: ['projects', 'policy'],
    args: '<name> <none|prod|always>',
    summary: 'Set which keys of a project need approval (default prod: environment prod or scope full).',
    flags: [],
    examples: ['keyward projects policy support-bot always', 'keyward projects policy search none'],
    needs: 'org',
    parse: (t: Tokens) => {
      const [name, policy] = need(t, 2, 'projects policy', 'a project name and none|prod|always', 2);
      return { name: asUsage(() => parseProjectName(name!.toLowerCase())), policy: asUsage(() => parsePolicy(policy!)) };
    },
    async run(ctx, input) {
      const r = await ctx.services.approvals.setPolicy(ctx.actor, input.name, input.policy);
      if (ctx.json) return ctx.emit(r);
      ctx.print(`Approval policy of ${r.name} is now ${r.policy} (was ${r.previous}).`);
    },
  }),
  command({
    path: ['approvals', 'list'],
    args: '',
    summary: 'List pending key requests (approve or deny them in Slack).',
    flags: [],
    examples: ['keyward approvals list', 'keyward approvals list --json'],
    needs: 'org',
    parse: (t: Tokens) => need(t, 0, 'approvals list', '', 0),
    async run(ctx) {
      const list = await ctx.services.approvals.listPending(ctx.actor);
      if (ctx.json) return ctx.emit({ requests: list });
      if (!list.length) return ctx.print('No pending key requests.');
      ctx.print(table(['ID', 'PROJECT', 'REQUESTER', 'KEY', 'ENV', 'EXPIRES'], list.map((r) => [
        r.id, r.projectName, r.requesterId, r.keyName, r.environment, fmtTime(r.expiresAt, ctx.config.timezone),
      ])));
    },
  }),
  command({
    path: ['review', 'start'],
    args: '[--due <N>d]',
    summary: 'Start an access review of every project (default due in 14 days).',
    flags: ['due'],
    examples: ['keyward review start', 'keyward review start --due 21d'],
    needs: 'org',
    parse: (t: Tokens) => {
      need(t, 0, 'review start', '', 0);
      const due = str(t.flags.due);
      return { dueDays: due ? asUsage(() => parseDueDays(due)) : undefined };
    },
    async run(ctx, input) {
      const started = (await ctx.services.reviews.start(ctx.actor, input.dueDays ? { dueDays: input.dueDays } : {}))!;
      const s = slack(ctx);
      if (s) await sendReviewDms(s.deps, s.client, started.campaign);
      if (ctx.json) return ctx.emit({ campaign: started.campaign, items: started.items.length, dmsSent: Boolean(s) });
      ctx.print(`Started access review ${started.campaign.id}: ${started.items.length} items, due ${fmtTime(started.campaign.dueAt, ctx.config.timezone)}.`);
      ctx.print(s ? 'Reviewers got a DM per project.' : 'SLACK_BOT_TOKEN is not set: no DMs were sent; reviewers can act once Slack is connected.');
    },
  }),
  command({
    path: ['review', 'status'],
    args: '',
    summary: 'Progress of the current (or last) access review per project.',
    flags: [],
    examples: ['keyward review status', 'keyward review status --json'],
    needs: 'org',
    parse: (t: Tokens) => need(t, 0, 'review status', '', 0),
    async run(ctx) {
      const c = await ctx.services.reviews.current(ctx.actor.orgId);
      if (!c) return ctx.print('No access review yet. Start one: keyward review start');
      const p = reviewProgress(await ctx.services.reviews.items(c.id), new Map());
      if (ctx.json) return ctx.emit({ campaign: c, progress: p });
      ctx.print(`Review ${c.id}: ${c.status}, ${p.decided} of ${p.total} decided, due ${fmtTime(c.dueAt, ctx.config.timezone)}.`);
      ctx.print(table(['PROJECT', 'ITEMS', 'FLAGGED', 'KEPT', 'REVOKED', 'OPEN'], p.projects.map((x) => [
        x.projectName, String(x.total), String(x.flagged), String(x.kept), String(x.revoked), String(x.open),
      ])));
    },
  }),
  command({
    path: ['review', 'close'],
    args: '--unreviewed keep|revoke',
    summary: 'Close the open access review; unreviewed items are kept or revoked. Prints the CSV path.',
    flags: ['unreviewed'],
    examples: ['keyward review close --unreviewed keep', 'keyward review close --unreviewed revoke --json'],
    needs: 'org',
    parse: (t: Tokens) => {
      need(t, 0, 'review close', '', 0);
      const u = str(t.flags.unreviewed)?.toLowerCase();
      if (u !== 'keep' && u !== 'revoke') throw new UsageError('review close needs --unreviewed keep or --unreviewed revoke');
      return { unreviewed: u as ReviewDecision };
    },
    async run(ctx, input) {
      const closed = await ctx.services.reviews.close(ctx.actor, input.unreviewed);
      if (ctx.json) return ctx.emit({ campaign: closed.campaign, revokedAtClose: closed.revokedAtClose, failed: closed.failed, csv: closed.csv });
      ctx.print(`Closed access review ${closed.campaign.id}: ${closed.items.length} items, ${closed.revokedAtClose} unreviewed revoked at close.`);
      for (const f of closed.failed) ctx.warn(`could not revoke ${f}`);
      ctx.print('');
      ctx.print(closed.csv.trimEnd());
    },
  }),
];
