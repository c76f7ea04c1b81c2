import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { conflict, forbidden, invalid } from '../../domain/errors.js';
import { isSlackUserId } from '../../domain/keys.js';
import { can, canManageKey } from '../../domain/roles.js';
import type { Actor } from '../../services/index.js';
import { actorFor, explain, reply, seenBefore, type SlackDeps } from '../context.js';
import { deliverSecret } from '../delivery.js';
import { parseKeysCommand, type CreateKeyArgs, type KeysCommand } from '../parse.js';
import { esc, note, type Message } from '../views/common.js';
import { clip } from '../parse.js';
import { keysHelp } from '../views/help.js';
import { deliveryFailed, keyCreated, keyDetail, keyList, keyRotated, PAGE_ACTION } from '../views/keys.js';
import { keyCheckChoices, keyCheckMessage } from '../views/key-check.js';
import { createKeyModal, PROD_CODE_HINT, revokeKeyModal } from '../views/modals.js';
import { requestList } from '../views/approvals.js';
import { announceRequest } from './approvals.js';
import { runSensitive, sensitiveAction, stepUpNeed, withCodeField } from '../stepup.js';
import type { StepUpProof } from '../../services/totp.js';

interface CommandCtx {
  actor: Actor;
  client: WebClient;
  triggerId: string;
  responseUrl: string;
}

export function registerKeysCommand(app: App, deps: SlackDeps) {
  app.command('/keys', async ({ command, ack, respond, client }) => {
    await ack();
    let message: Message | null;
    try {
      const cmd = parseKeysCommand(command.text ?? '');
      if (cmd.kind === 'help') message = keysHelp();
      else {
        const actor = await actorFor(deps, client, command.team_id, command.user_id);
        message = await run(deps, cmd, { actor, client, triggerId: command.trigger_id, responseUrl: command.response_url });
      }
    } catch (error) {
      message = explain(error, deps.logger, '/keys');
    }
    if (message) await reply(respond, message, deps.logger);
  });

  // "Previous"/"Next" under a key list: replace the list in place.
  app.action(new RegExp(`^${PAGE_ACTION}_`), async ({ ack, body, action, respond, client }) => {
    await ack();
    let message: Message;
    try {
      const { p, o } = JSON.parse((action as { value?: string }).value ?? '{}') as { p?: string | null; o?: number };
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      const keys = await deps.services.keys.list(actor, p ?? undefined);
      message = keyList(keys, { ...(p ? { project: p } : {}), offset: Number(o) || 0 });
    } catch (error) {
      message = explain(error, deps.logger, 'keys page');
    }
    await reply(respond, message, deps.logger, true);
  });
}

/** A prod rotation confirmed with a code (see stepup.ts). */
sensitiveAction('key.rotate', async ({ deps, client, actor, proof }, a) => {
  const rotated = await deps.services.keys.rotate(actor, a.keyId!, a.graceMs ? Number(a.graceMs) : undefined, undefined, proof);
  return deliverRotated(deps, client, actor, rotated);
});

/** The new secret goes to the key's owner; the rotator is told where it went (never the secret). */
async function deliverRotated(deps: SlackDeps, client: WebClient, actor: Actor, rotated: Awaited<ReturnType<SlackDeps['services']['keys']['rotate']>>) {
  const outcome = await deliverSecret(deps.services, client, actor, { ...rotated, kind: 'rotated' });
  if (outcome.delivered) return keyRotated(rotated.key, actor.userId);
  return deliveryFailed(rotated.key.id, outcome.undone, { ownerId: rotated.key.ownerId, viewerId: actor.userId });
}

/** Slack can only hand a secret to a Slack user: a key owned by a CLI user is rotated with the CLI. */
function refuseNonSlackOwner(key: { id: string; ownerId: string }) {
  if (!isSlackUserId(key.ownerId)) {
    throw invalid(
      `\`${key.id}\` belongs to \`${key.ownerId}\`, who cannot receive a secret in Slack: rotate it with the CLI (\`keyward keys rotate ${key.id}\`).`,
    );
  }
}

/** A prod key the policy lets through, confirmed with a code: the original request id still guards repeats. */
sensitiveAction('key.create', async ({ deps, client, actor, proof }, a) =>
  (await createKey(deps, client, actor, JSON.parse(a.input!) as CreateKeyArgs, a.requestId!, proof))!);

/** Creates the key (or files the request) and delivers the secret; null never (see runSensitive). */
async function createKey(deps: SlackDeps, client: WebClient, actor: Actor, args: CreateKeyArgs, requestId: string, proof?: StepUpProof | null): Promise<Message> {
  const result = await deps.services.approvals.createOrRequest(actor, { ...args, requestId }, await deps.admins.list(actor.orgId), proof);
  if (result.kind === 'requested') return announceRequest(deps, client, result);
  const created = result.created;
  const key = { ...created.key, projectName: created.projectName };
  const outcome = await deliverSecret(deps.services, client, actor, { key, secret: created.secret, kind: 'created' });
  return outcome.delivered ? keyCreated(key) : deliveryFailed(key.id, outcome.undone);
}

/** Returns the answer, or null when a modal took over. */
async function run(deps: SlackDeps, cmd: Exclude<KeysCommand, { kind: 'help' }>, ctx: CommandCtx): Promise<Message | null> {
  const { keys, projects } = deps.services;
  const { actor, client } = ctx;
  const requestId = `slack:trigger:${ctx.triggerId}`;
  switch (cmd.kind) {
    case 'list':
      return keyList(await keys.list(actor, cmd.project), cmd.project ? { project: cmd.project.toLowerCase() } : {});
    case 'show':
      return keyDetail(await keys.show(actor, cmd.keyId));
    case 'requests':
      return requestList(await deps.services.approvals.listPending(actor));
    case 'check': {
      const r = await deps.services.keyCheck.check(actor, cmd.ref);
      return r.kind === 'report' ? keyCheckMessage(r.report) : keyCheckChoices(r.last4, r.candidates);
    }
    case 'create-modal': {
      const usable = (await projects.list(actor)).filter((p) => can({ orgAdmin: actor.orgAdmin, role: p.myRole }, 'key.create'));
      if (usable.length === 0) {
        return note('You cannot create keys in any project yet: you need to be a Developer or Admin of one. `/project list` shows your projects.');
      }
      // Enrolled users get an optional code field: a prod key the policy lets through needs it.
      const view = withCodeField(createKeyModal(usable.map((p) => p.name), { r: ctx.responseUrl }), await stepUpNeed(deps, actor).catch(() => 'none' as const), { hint: PROD_CODE_HINT });
      await client.views.open({ trigger_id: ctx.triggerId, view });
      return null;
    }
    case 'revoke': {
      // Refuse before the modal, so nobody confirms something they may not do.
      const { key, project, subject } = await keys.get(actor, cmd.keyId);
      if (!canManageKey(subject, actor.userId, key.ownerId)) {
        throw forbidden(`You cannot revoke \`${key.id}\`: only Admins of ${project.name} and the key's owner can.`);
      }
      if (key.status !== 'active') throw conflict(`\`${key.id}\` is already ${key.status}.`);
      // Step-up for prod keys: the code field joins the confirmation modal.
      const need = key.environment === 'prod' ? await stepUpNeed(deps, actor) : 'none';
      await client.views.open({
        trigger_id: ctx.triggerId,
        view: withCodeField(revokeKeyModal({ id: key.id, name: key.name, projectName: project.name }, { k: key.id, r: ctx.responseUrl }), need),
      });
      return null;
    }
    case 'create': {
      await seenBefore(deps, requestId);
      const { kind: _k, ...args } = cmd;
      // A prod key without approval asks enrolled users for a code first (the service decides).
      const text = `Create prod key *${esc(clip(args.name))}* in *${esc(clip(args.project))}*? Its secret is sent to your DM.`;
      const g = { kind: 'key.create' as const, args: { input: JSON.stringify(args), requestId }, title: 'Create prod key', text, triggerId: ctx.triggerId, responseUrl: ctx.responseUrl };
      return runSensitive(client, g, () => createKey(deps, client, actor, args, requestId));
    }
    case 'rotate': {
      await seenBefore(deps, requestId);
      const { key: target } = await keys.get(actor, cmd.keyId);
      refuseNonSlackOwner(target);
      // A prod key asks enrolled users for a code first (the service decides).
      const args = { keyId: cmd.keyId, ...(cmd.graceMs !== undefined ? { graceMs: String(cmd.graceMs) } : {}) };
      const text = `Rotate prod key \`${target.id}\`? A new secret is sent to ${target.ownerId === actor.userId ? 'your' : `<@${target.ownerId}>'s`} DM.`;
      const g = { kind: 'key.rotate' as const, args, title: 'Rotate prod key', text, triggerId: ctx.triggerId, responseUrl: ctx.responseUrl };
      return runSensitive(client, g, async () => deliverRotated(deps, client, actor, await keys.rotate(actor, cmd.keyId, cmd.graceMs, requestId)));
    }
  }
}
