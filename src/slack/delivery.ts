/**
 * Secret delivery (issue 2, "Secret delivery"): conversations.open → chat.postEphemeral with the
 * secret in the DM → persisted DM with a one-time Reveal button (no secret) backed by an encrypted
 * pending secret. If the persisted message cannot be posted, the fresh secret would reach nobody
 * reliably, so the key is revoked (or the rotation undone) and the caller says so.
 */
import type { WebClient } from '@slack/web-api';
import { systemActor, type Actor, type Services } from '../services/index.js';
import type { KeyView } from '../services/keys.js';
import { describeError } from './context.js';
import { revealClosed, revealMessage, secretEphemeral } from './views/secrets.js';

export type DeliveryOutcome = { delivered: true } | { delivered: false; undone: 'revoked' | 'rotation_undone' };

export async function deliverSecret(
  services: Services,
  client: WebClient,
  actor: Actor,
  input: { key: KeyView & { projectName: string }; secret: string; kind: 'created' | 'rotated' },
): Promise<DeliveryOutcome> {
  const { key, secret, kind } = input;
  const userId = actor.userId!;
  const log = services.deps.logger.child({ keyId: key.id, userId });
  let stashId: string | null = null;
  try {
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
    if (kind === 'rotated' && key.prevHint) {
      await services.keys.undoRotation(system, key.id, reason);
      return { delivered: false, undone: 'rotation_undone' };
    }
    // Creation, or a rotation without grace (no previous secret to fall back to).
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
