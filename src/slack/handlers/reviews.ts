/**
 * Access reviews in Slack: `/keyward review start [--due <N>d] | status | close --unreviewed keep|revoke`,
 * per-project DMs with Keep / Revoke / Keep all (re-rendered for every reviewer after each decision),
 * reminders and the quarterly start (job functions at the bottom).
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { invalid } from '../../domain/errors.js';
import { parseDueDays, type Campaign, type ReviewDecision, type ReviewItem } from '../../domain/reviews.js';
import type { Actor } from '../../services/index.js';
import { WebClientNotifier } from '../../services/notifier.js';
import { actorFor, describeError, explain, reply, type SlackDeps } from '../context.js';
import { splitFlags } from '../parse.js';
import { checkStepUp, runSensitive, sensitiveAction, stepUpNeed } from '../stepup.js';
import { note, type Message } from '../views/common.js';
import { infoModal } from '../views/secrets.js';
import type { StepUpProof } from '../../services/totp.js';
import {
  KEEP_ACTION, KEEP_ALL_ACTION, REVOKE_ACTION, REVOKE_CALLBACK, reviewClosedMessage, reviewMessage, reviewReminderMessage,
  reviewStatusMessage, revokeStepUpModal,
} from '../views/reviews.js';

const warn = (deps: SlackDeps, what: string) => (error: unknown) => deps.logger.warn({ error: describeError(error) }, what);

/** DMs every reviewer of every project in the campaign (or only `projectIds`). */
export async function sendReviewDms(deps: SlackDeps, client: WebClient, campaign: Campaign, projectIds?: string[]) {
  const { reviews } = deps.services;
  const notifier = new WebClientNotifier(client);
  const items = await reviews.items(campaign.id);
  const reviewers = await reviews.reviewers(items, await deps.admins.list(campaign.orgId));
  for (const [projectId, people] of reviewers) {
    if (projectIds && !projectIds.includes(projectId)) continue;
    const mine = items.filter((i) => i.projectId === projectId);
    for (const userId of people) {
      try {
        const dm = reviewMessage({ campaign, projectId, projectName: mine[0]!.projectName, items: mine, reviewerId: userId, now: deps.now(), timeZone: reviews.timeZone });
        const posted = await notifier.dm(userId, dm);
        await reviews.recordMessage(campaign.id, projectId, userId, posted.channel, posted.ts);
      } catch (error) {
        warn(deps, 'review DM failed')(error);
      }
    }
  }
}

/** Re-renders every reviewer's DM of one project (or all projects) after a decision or close. */
async function refresh(deps: SlackDeps, client: WebClient, campaign: Campaign, projectId?: string) {
  const { reviews } = deps.services;
  const items = await reviews.items(campaign.id, projectId);
  for (const m of await reviews.messages(campaign.id, projectId)) {
    const mine = items.filter((i) => i.projectId === m.projectId);
    if (!mine.length) continue;
    const view = reviewMessage({ campaign, projectId: m.projectId, projectName: mine[0]!.projectName, items: mine, reviewerId: m.userId, now: deps.now(), timeZone: reviews.timeZone });
    await client.chat.update({ channel: m.channelId, ts: m.ts, ...view }).catch(warn(deps, 'review DM update failed'));
  }
}

/**
 * Review summaries and reports name projects, people and keys: they go to the org admins by DM
 * only. `channelLine`, a one-line summary without names, may go to the org alert channel.
 */
async function toAdmins(deps: SlackDeps, client: WebClient, orgId: string, message: Message, file?: { name: string; content: string }, channelLine?: string) {
  const notifier = new WebClientNotifier(client);
  for (const user of await deps.admins.list(orgId)) {
    try {
      const posted = await notifier.dm(user, message);
      if (file) await notifier.upload({ channel: posted.channel, filename: file.name, title: file.name, content: file.content });
    } catch (error) {
      warn(deps, 'admin summary failed')(error);
    }
  }
  if (!channelLine) return;
  const org = await deps.services.deps.db.org.findUnique({ where: { id: orgId } });
  if (org?.alertChannelId) await notifier.post(org.alertChannelId, note(channelLine)).catch(warn(deps, 'review summary post failed'));
}

/** Closes the open review (revoking unreviewed access with `revoke`), refreshes the DMs, reports to admins. */
async function closeReview(deps: SlackDeps, client: WebClient, actor: Actor, choice: ReviewDecision, proof?: StepUpProof | null): Promise<Message> {
  const { reviews } = deps.services;
  const closed = await reviews.close(actor, choice, proof);
  await refresh(deps, client, closed.campaign);
  const progress = await reviews.progress(closed.campaign, await deps.admins.list(actor.orgId));
  const report = reviewClosedMessage(closed.campaign, progress, closed.revokedAtClose);
  // The report and CSV name every member and key: org admins by DM; the channel gets a line without names.
  const summary = `Access review \`${closed.campaign.id}\` closed: ${progress.total} items reviewed; the report went to the org admins by DM.`;
  await toAdmins(deps, client, actor.orgId, report, { name: `access-review-${closed.campaign.id}.csv`, content: closed.csv }, summary);
  return closed.failed.length ? note(`${report.text}\n:warning: Could not revoke: ${closed.failed.slice(0, 5).join('; ')}`) : report;
}

// `close --unreviewed revoke` revokes in bulk: enrolled users confirm it with a code.
sensitiveAction('review.close', ({ deps, client, actor, proof }, a) => closeReview(deps, client, actor, a.unreviewed as ReviewDecision, proof));

/** `trigger`: the slash command's, for the code modal of `close --unreviewed revoke` (null: the modal took over). */
export async function runReview(deps: SlackDeps, client: WebClient, actor: Actor, tokens: string[], trigger?: { triggerId: string; responseUrl: string }): Promise<Message | null> {
  const { reviews } = deps.services;
  const [sub, ...rest] = tokens;
  const admins = await deps.admins.list(actor.orgId);
  switch ((sub ?? 'status').toLowerCase()) {
    case 'start': {
      const { args, flags } = splitFlags(rest, ['due']);
      if (args.length) throw invalid('Usage: `/keyward review start [--due <N>d]`.');
      const started = await reviews.start(actor, flags.due ? { dueDays: parseDueDays(flags.due) } : {});
      await sendReviewDms(deps, client, started!.campaign);
      const projects = new Set(started!.items.map((i) => i.projectId)).size;
      return note(`Started access review \`${started!.campaign.id}\`: ${started!.items.length} items in ${projects} projects; reviewers got a DM per project.`);
    }
    case 'status': {
      const c = await reviews.current(actor.orgId);
      if (!c) return note('No access review yet. Org admins start one with `/keyward review start`.');
      return reviewStatusMessage(c, await reviews.progressFor(actor, c, admins), deps.now(), reviews.timeZone);
    }
    case 'close': {
      const { args, flags } = splitFlags(rest, ['unreviewed']);
      const choice = (flags.unreviewed ?? '').toLowerCase();
      if (args.length || (choice !== 'keep' && choice !== 'revoke')) throw invalid('Usage: `/keyward review close --unreviewed keep|revoke`.');
      const act = () => closeReview(deps, client, actor, choice as ReviewDecision);
      if (!trigger) return act();
      const text = 'Close the access review and *revoke every unreviewed key and membership* in the organisation?';
      return runSensitive(client, { kind: 'review.close', args: { unreviewed: choice }, title: 'Close access review', text, ...trigger }, act);
    }
    default:
      throw invalid('Use `/keyward review start [--due <N>d]`, `/keyward review status` or `/keyward review close --unreviewed keep|revoke`.');
  }
}

export function registerReviews(app: App, deps: SlackDeps) {
  const { reviews } = deps.services;

  const decided = async (client: WebClient, itemId: string) => {
    const { campaign, projectId } = await reviews.campaignOf(itemId);
    await refresh(deps, client, campaign, projectId);
  };

  app.action(KEEP_ACTION, async ({ ack, body, action, client, respond }) => {
    await ack();
    const itemId = (action as { value?: string }).value ?? '';
    try {
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      await reviews.decide(actor, itemId, 'keep');
      await decided(client, itemId);
    } catch (error) {
      await reply(respond, explain(error, deps.logger, 'review keep'), deps.logger);
    }
  });

  app.action(REVOKE_ACTION, async ({ ack, body, action, client, respond }) => {
    await ack();
    const itemId = (action as { value?: string }).value ?? '';
    try {
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      const item: ReviewItem = await reviews.checkDecidable(actor, itemId, 'revoke');
      if ((await stepUpNeed(deps, actor)) === 'code') {
        await client.views.open({ trigger_id: (body as { trigger_id?: string }).trigger_id!, view: revokeStepUpModal(item) });
        return;
      }
      await reviews.decide(actor, itemId, 'revoke');
      await decided(client, itemId);
    } catch (error) {
      await reply(respond, explain(error, deps.logger, 'review revoke'), deps.logger);
    }
  });

  app.view(REVOKE_CALLBACK, async ({ ack, body, view, client }) => {
    const itemId = view.private_metadata;
    try {
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      await reviews.checkDecidable(actor, itemId, 'revoke');
      const checked = await checkStepUp(deps, actor, view.state.values as never, 'review.revoke');
      if (checked.refused) return void (await ack(checked.refused));
      await reviews.decide(actor, itemId, 'revoke', { step: checked.proof });
    } catch (error) {
      return void (await ack({ response_action: 'update', view: infoModal('Not revoked', explain(error, deps.logger, 'review revoke modal').text) }));
    }
    await ack();
    await decided(client, itemId);
  });

  app.action(KEEP_ALL_ACTION, async ({ ack, body, action, client, respond }) => {
    await ack();
    try {
      const { c, p } = JSON.parse((action as { value?: string }).value ?? '{}') as { c: string; p: string };
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      const r = await reviews.keepAll(actor, c, p);
      const campaign = await reviews.current(actor.orgId);
      if (campaign) await refresh(deps, client, campaign, p);
      if (r.skippedOwn) await reply(respond, note(`Kept ${r.kept} items; ${r.skippedOwn} of your own are left for another reviewer.`), deps.logger);
    } catch (error) {
      await reply(respond, explain(error, deps.logger, 'review keep all'), deps.logger);
    }
  });
}

// ---- Scheduled work (registered with the scheduler, see src/jobs) --------------------------------

/** Quarterly: start this quarter's campaign where due (exactly once per org via the unique slot). */
export async function startQuarterlyReviews(deps: SlackDeps, client: WebClient): Promise<number> {
  const started = await deps.services.reviews.startQuarterly();
  for (const s of started) await sendReviewDms(deps, client, s.campaign);
  return started.length;
}

/** Daily: reminders per the cadence to reviewers with open items, and a summary for the org admins. */
export async function sendReviewReminders(deps: SlackDeps, client: WebClient): Promise<number> {
  const { reviews } = deps.services;
  const notifier = new WebClientNotifier(client);
  const due = await reviews.dueReminders();
  for (const c of due) {
    const items = await reviews.items(c.id);
    const admins = await deps.admins.list(c.orgId);
    for (const [projectId, people] of await reviews.reviewers(items, admins)) {
      const open = items.filter((i) => i.projectId === projectId && !i.decision);
      if (!open.length) continue;
      for (const userId of people) {
        await notifier.dm(userId, reviewReminderMessage(c, open[0]!.projectName, open.length, deps.now(), reviews.timeZone)).catch(warn(deps, 'review reminder failed'));
      }
    }
    await toAdmins(deps, client, c.orgId, reviewStatusMessage(c, await reviews.progress(c, admins), deps.now(), reviews.timeZone));
  }
  return due.length;
}
