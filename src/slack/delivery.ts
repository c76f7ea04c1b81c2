/**
 * Secret delivery (README, "Secret delivery"): to the key's owner, whoever asked for it:
 * conversations.open → chat.postEphemeral with the secret in the DM → persisted DM with a one-time
 * Reveal button (no secret) backed by an encrypted pending secret. If the persisted message cannot
 * be posted, the fresh secret would reach nobody reliably, so a new key is revoked and a rotation
 * undone (the old secret works again, also after `--grace 0h`), and the caller says so.
 */
import type { WebClient } from '@slack/web-api';
import { systemActor, type Actor, type Services } from '../services/index.js';
import { isSlackUserId } from '../domain/keys.js';
import type { KeyView, RotationUndo } from '../services/keys.js';
import { describeError } from './context.js';
import { revealClosed, revealMessage, secretEphemeral } from './views/secrets.js';

/** `superseded`: the key was rotated again (or revoked) meanwhile, so there was nothing to undo. */
export type DeliveryOutcome = { delivered: true } | { delivered: false; undone: 'revoked' | 'rotation_undone' | 'superseded' };

export type DeliveryInput =
  | { key: KeyView & { projectName: string }; secret: string; kind: 'created' }
  | { key: KeyView & { projectName: string }; secret: string; kind: 'rotated'; undo: RotationUndo };

export async function deliverSecret(services: Services, client: WebClient, actor: Actor, input: DeliveryInput): Promise<DeliveryOutcome> {
  const { key, secret, kind } = input;
  const userId = key.ownerId;
  const log = services.deps.logger.child({ keyId: key.id, userId });
  let stashId: string | null = null;
  try {
    // Adapters refuse earlier with a clear message; this keeps a secret from going anywhere else.
    if (!isSlackUserId(userId)) throw new Error('the key owner is not a Slack user');
    const dm = await client.conversations.open({ users: userId });
    const channel = dm.channel?.id;
    if (!channel) throw new Error('conversations.open returned no channel');
    try {
      await client.chat.postEphemeral({ channel, user: userId, ...secretEphemeral(key, secret, kind) });
    } catch (error) {
      // Ephemeral delivery is best effort by design; the Reveal message below is the reliable path.
      log.warn({ error: describeError(error) }, 'ephemeral secret delivery failed; the Reveal button remains');
    }
    const stash = await services.pendingSecrets.stash(key.id, userId, secret);
    stashId = stash.id;
    const posted = await client.chat.postMessage({ channel, ...revealMessage(key, stash.id, stash.expiresAt, kind) });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    await services.pendingSecrets.attachMessage(stash.id, posted.channel ?? channel, posted.ts);
    return { delivered: true };
  } catch (error) {
    log.warn({ error: describeError(error) }, 'secret delivery failed; undoing');
    if (stashId) await services.pendingSecrets.discard(stashId).catch(() => {});
    const system = systemActor(actor.orgId);
    const reason = 'secret could not be delivered in Slack';
    if (input.kind === 'rotated') {
      const undone = await services.keys.undoRotation(system, input.undo, reason);
      return { delivered: false, undone: undone ? 'rotation_undone' : 'superseded' };
    }
    await services.keys.revokeAsSystem(system, key.id, reason);
    return { delivered: false, undone: 'revoked' };
  }
}

/**
 * For the scheduler: erases pending secrets past their 15 minutes and replaces their Reveal
 * buttons. Returns how many were erased.
 */
export async function expireRevealButtons(services: Services, client: WebClient): Promise<number> {
  const erased = await services.pendingSecrets.sweepExpired();
  const now = services.deps.now?.() ?? new Date();
  for (const row of erased) {
    if (!row.channelId || !row.messageTs) continue;
    try {
      await client.chat.update({ channel: row.channelId, ts: row.messageTs, ...revealClosed(row.keyId, 'expired', now) });
    } catch (error) {
      services.deps.logger.warn({ keyId: row.keyId, error: describeError(error) }, 'could not replace an expired Reveal button');
    }
  }
  return erased.length;
}
