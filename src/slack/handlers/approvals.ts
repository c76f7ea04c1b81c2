/**
 * Key requests in Slack: DMs to approvers and requester, Approve/Deny/Cancel buttons and modals,
 * updating every approver's copy once a request is final, and the expiry sweep (job + lazily on clicks).
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { ApprovalRequest } from '../../domain/approvals.js';
import { isDomainError } from '../../domain/errors.js';
import { slackActor, type Actor } from '../../services/index.js';
import type { CreateOrRequest } from '../../services/approvals.js';
import { actorFor, describeError, explain, reply, type SlackDeps } from '../context.js';
import { deliverSecret } from '../delivery.js';
import { checkStepUp, stepUpNeed } from '../stepup.js';
import {
  approvalFailed, APPROVE_ACTION, APPROVE_CALLBACK, approveModal, approverMessage, CANCEL_ACTION, DENY_ACTION, DENY_CALLBACK, denyModal,
  NOTE_BLOCK, REASON_BLOCK, requestOutcomeMessage, requestPendingMessage,
} from '../views/approvals.js';
import type { Message } from '../views/common.js';
import { deliveryFailed } from '../views/keys.js';
import { infoModal } from '../views/secrets.js';

type Values = Record<string, Record<string, { value?: string | null }>>;
type Requested = Extract<CreateOrRequest, { kind: 'requested' }>;

const warn = (deps: SlackDeps, what: string) => (error: unknown) => deps.logger.warn({ error: describeError(error) }, what);

async function dm(client: WebClient, userId: string, message: Message) {
  const open = await client.conversations.open({ users: userId });
  const channel = open.channel?.id;
  if (!channel) throw new Error('conversations.open returned no channel');
  const posted = await client.chat.postMessage({ channel, ...message });
  return { channel: posted.channel ?? channel, ts: posted.ts ?? '' };
}

/** After a request is recorded: every approver gets the DM with buttons, the requester a DM with Cancel. */
export async function announceRequest(deps: SlackDeps, client: WebClient, result: Requested): Promise<Message> {
  const { approvals } = deps.services;
  const r = result.request;
  for (const userId of result.approvers) {
    try {
      const posted = await dm(client, userId, approverMessage(r));
      await approvals.recordApproverMessage(r.id, userId, posted.channel, posted.ts);
    } catch (error) {
      warn(deps, 'approver DM failed')(error);
    }
  }
  const pending = requestPendingMessage(r, result.approvers, result.why);
  try {
    const posted = await dm(client, r.requesterId, pending);
    await approvals.recordRequesterMessage(r.id, posted.channel, posted.ts);
  } catch (error) {
    warn(deps, 'requester DM failed')(error);
  }
  return pending;
}

/** Once final: every approver copy and the requester's pending DM show the outcome; the requester is told. */
export async function announceOutcome(deps: SlackDeps, client: WebClient, r: ApprovalRequest) {
  const { approvals } = deps.services;
  for (const m of await approvals.approverMessages(r.id)) {
    await client.chat.update({ channel: m.channelId, ts: m.ts, ...approverMessage(r) }).catch(warn(deps, 'approver copy update failed'));
  }
  const mine = await approvals.requesterMessage(r.id);
  const outcome = requestOutcomeMessage(r);
  if (mine) await client.chat.update({ channel: mine.channelId, ts: mine.ts, ...outcome }).catch(warn(deps, 'requester copy update failed'));
  if (r.status !== 'cancelled') await dm(client, r.requesterId, outcome).catch(warn(deps, 'requester outcome DM failed'));
}

/** The scheduled job (every minute) and the lazy path on clicks: expire lapsed requests, tell everyone once. */
export async function expireApprovalRequests(deps: SlackDeps, client: WebClient): Promise<number> {
  const expired = await deps.services.approvals.expireDue();
  for (const r of expired) await announceOutcome(deps, client, r);
  return expired.length;
}

/** A click on a request that is no longer pending: say why, and refresh that copy. */
async function stale(deps: SlackDeps, client: WebClient, actor: Actor, id: string, body: { channel?: { id?: string }; message?: { ts?: string } }) {
  await expireApprovalRequests(deps, client).catch(warn(deps, 'lazy expiry failed'));
  const r = await deps.services.approvals.get(id, actor.orgId).catch(() => null);
  if (r && r.status !== 'pending' && body.channel?.id && body.message?.ts) {
    await client.chat.update({ channel: body.channel.id, ts: body.message.ts, ...approverMessage(r) }).catch(warn(deps, 'stale copy update failed'));
  }
}

export function registerApprovals(app: App, deps: SlackDeps) {
  const { approvals } = deps.services;

  for (const [actionId, approving] of [[APPROVE_ACTION, true], [DENY_ACTION, false]] as const) {
    app.action(actionId, async ({ ack, body, action, client, respond }) => {
      await ack();
      const id = (action as { value?: string }).value ?? '';
      const triggerId = (body as { trigger_id?: string }).trigger_id!;
      let actor: Actor | null = null;
      try {
        actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
        const r = await approvals.checkDecidable(actor, id);
        const view = approving ? approveModal(r, { needsCode: (await stepUpNeed(deps, actor)) === 'code' }) : denyModal(r);
        await client.views.open({ trigger_id: triggerId, view });
      } catch (error) {
        if (actor && isDomainError(error) && error.code === 'conflict') await stale(deps, client, actor, id, body as never);
        await reply(respond, explain(error, deps.logger, actionId), deps.logger);
      }
    });
  }

  app.action(CANCEL_ACTION, async ({ ack, body, action, client, respond }) => {
    await ack();
    try {
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      const r = await approvals.cancel(actor, (action as { value?: string }).value ?? '');
      await announceOutcome(deps, client, r);
    } catch (error) {
      await reply(respond, explain(error, deps.logger, 'approval cancel'), deps.logger);
    }
  });

  app.view(APPROVE_CALLBACK, async ({ ack, body, view, client }) => {
    const values = view.state.values as Values;
    let actor: Actor;
    let approved: Awaited<ReturnType<typeof approvals.approve>>;
    try {
      actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      // Refusals about the request (already decided, own) replace the modal; a bad code stays on the field.
      await approvals.checkDecidable(actor, view.private_metadata);
      const checked = await checkStepUp(deps, actor, values, 'approval.approve');
      if (checked.refused) return void (await ack(checked.refused));
      // The code was just accepted: approve() takes the proof instead of asking for a second one.
      approved = await approvals.approve(actor, view.private_metadata, { note: values[NOTE_BLOCK]?.value?.value ?? null, step: checked.proof });
    } catch (error) {
      return void (await ack({ response_action: 'update', view: infoModal('Not approved', explain(error, deps.logger, 'approve').text) }));
    }
    const requester = slackActor(actor.orgId, approved.request.requesterId, false);
    if (!approved.created) {
      // Nothing was approved: the approver sees why, the requester is told the request still waits.
      const failed = approvalFailed(approved.request, approved.failure ?? '', actor.userId!);
      await ack({ response_action: 'update', view: infoModal('Not approved', failed.approver) });
      await dm(client, requester.userId!, failed.requester).catch(warn(deps, 'key failure DM failed'));
      return;
    }
    await ack();
    await announceOutcome(deps, client, approved.request);
    try {
      const key = { ...approved.created.key, projectName: approved.created.projectName };
      const outcome = await deliverSecret(deps.services, client, requester, { key, secret: approved.created.secret, kind: 'created' });
      if (!outcome.delivered) await dm(client, actor.userId!, deliveryFailed(key.id, outcome.undone)).catch(warn(deps, 'DM failed'));
    } catch (error) {
      warn(deps, 'approved key delivery failed')(error);
    }
  });

  app.view(DENY_CALLBACK, async ({ ack, body, view, client }) => {
    const reason = (view.state.values as Values)[REASON_BLOCK]?.value?.value ?? '';
    let denied: ApprovalRequest;
    try {
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      denied = await approvals.deny(actor, view.private_metadata, reason);
    } catch (error) {
      if (isDomainError(error) && error.code === 'invalid') return void (await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: error.message } }));
      return void (await ack({ response_action: 'update', view: infoModal('Not denied', explain(error, deps.logger, 'deny').text) }));
    }
    await ack();
    await announceOutcome(deps, client, denied);
  });
}
