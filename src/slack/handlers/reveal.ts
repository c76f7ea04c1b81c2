import type { App } from '@slack/bolt';
import { isDomainError } from '../../domain/errors.js';
import { actorFor, APOLOGY, describeError, reply, type SlackDeps } from '../context.js';
import { note } from '../views/common.js';
import { infoModal, loadingModal, REVEAL_ACTION, revealClosed, revealModal } from '../views/secrets.js';

/**
 * The one-time Reveal button. The modal opens first (trigger_id lives 3 s) with a placeholder, then
 * the secret is claimed and put in with views.update, so a failing views.open never burns it.
 */
export function registerReveal(app: App, deps: SlackDeps) {
  app.action(REVEAL_ACTION, async ({ ack, body, action, client, respond }) => {
    await ack();
    const stashId = (action as { value?: string }).value ?? '';
    const triggerId = (body as { trigger_id?: string }).trigger_id;
    let viewId: string | undefined;
    try {
      const opened = await client.views.open({ trigger_id: triggerId!, view: loadingModal() });
      viewId = opened.view?.id;
      if (!viewId) throw new Error('views.open returned no view id');
    } catch (error) {
      deps.logger.warn({ error: describeError(error) }, 'could not open the reveal modal');
      return reply(respond, note('I could not open the reveal window. Click *Reveal secret* again.'), deps.logger);
    }
    let revealed: Awaited<ReturnType<SlackDeps['services']['pendingSecrets']['reveal']>>;
    try {
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      revealed = await deps.services.pendingSecrets.reveal(actor, stashId);
    } catch (error) {
      const text = isDomainError(error) ? error.message : APOLOGY;
      if (!isDomainError(error)) deps.logger.error({ error: describeError(error) }, 'reveal failed');
      await client.views.update({ view_id: viewId, view: infoModal('Your secret', text) }).catch(() => {});
      return;
    }
    try {
      await client.views.update({ view_id: viewId, view: revealModal(revealed.keyId, revealed.secret) });
    } catch (error) {
      deps.logger.error({ keyId: revealed.keyId, error: describeError(error) }, 'revealed secret could not be shown');
      await reply(
        respond,
        note(`I could not show the secret of \`${revealed.keyId}\` and it is erased now. Get a new one with \`/keys rotate ${revealed.keyId}\`.`),
        deps.logger,
      );
    }
    const channel = revealed.channelId ?? (body as { channel?: { id?: string } }).channel?.id;
    const ts = revealed.messageTs ?? (body as { message?: { ts?: string } }).message?.ts;
    if (channel && ts) {
      await client.chat
        .update({ channel, ts, ...revealClosed(revealed.keyId, 'revealed', deps.now()) })
        .catch((error) => deps.logger.warn({ error: describeError(error) }, 'could not remove the Reveal button'));
    }
  });
}
