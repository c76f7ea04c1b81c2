/**
 * `/keyward 2fa enroll|verify <code>|disable <code>|reset @user [code]|status`. Enrollment happens in
 * a modal: the secret as text, the QR as a private Slack file (uploaded to no channel) shown in an
 * image block, and the first code. The QR file is deleted when the modal is submitted or closed,
 * enrollment completes, is dropped or restarted, or by the reveal job (src/jobs/expiry.ts) after 15 minutes.
 * Nothing secret is ever put in a message, a channel or the audit log.
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { invalid, isDomainError } from '../../domain/errors.js';
import type { Actor } from '../../services/index.js';
import { WebClientNotifier, type SlackNotifier } from '../../services/notifier.js';
import { actorFor, describeError, explain, type SlackDeps } from '../context.js';
import { clip, parseUser } from '../parse.js';
import { note, type Message } from '../views/common.js';
import { infoModal } from '../views/secrets.js';
import {
  disabledMessage, enrolledMessage, enrolledText, enrollModal, lockoutNotice, totpFromState, ENROLL_CALLBACK, QR_FILENAME, QR_TITLE, TOTP_BLOCK,
  resetNotice, statusMessage,
} from '../views/twofactor.js';

export const TWOFA_USAGE = '`/keyward 2fa enroll`, `/keyward 2fa verify <code>`, `/keyward 2fa disable <code>`, `/keyward 2fa status`, `/keyward 2fa reset @user [your code]` (org admins)';

export async function runTwoFactor(deps: SlackDeps, client: WebClient, actor: Actor, args: string[], userName?: string, triggerId?: string): Promise<Message> {
  const { totp } = deps.services;
  const [sub, ...rest] = args;
  const notifier = new WebClientNotifier(client);
  switch ((sub ?? 'status').toLowerCase()) {
    case 'status':
      return statusMessage(await totp.status(actor), deps.now());
    case 'enroll':
      if (!triggerId) throw invalid('Run `/keyward 2fa enroll` as a slash command: enrollment opens a window.');
      await dropQrFile(deps, notifier, actor.orgId, actor.userId!);
      await openEnrollment(deps, client, notifier, actor, userName || actor.userId!, triggerId);
      return note('Two-factor setup is open in a window: scan the QR code there and enter the first code. Only you can see it; nothing is kept in your messages.');
    case 'verify':
      await totp.verify(actor, rest.join(''));
      await dropQrFile(deps, notifier, actor.orgId, actor.userId!);
      return enrolledMessage();
    case 'disable': {
      const { qrFileId } = await totp.disable(actor, rest.join(''));
      if (qrFileId) await deleteQr(deps, notifier, qrFileId);
      return disabledMessage();
    }
    case 'reset': {
      const target = parseUser(rest[0]);
      const { qrFileId } = await totp.adminReset(actor, target, rest.slice(1).join('') || null);
      if (qrFileId) await deleteQr(deps, notifier, qrFileId);
      const required = deps.services.deps.require2fa ?? false;
      await notifier.dm(target, resetNotice(actor.userId!, required)).catch((error) =>
        deps.logger.warn({ err: (error as Error).message }, 'could not tell the user about the 2FA reset'));
      return note(`Two-factor of <@${target}> is reset; they were told by DM.`);
    }
    default:
      throw invalid(`Unknown 2fa command "${clip(sub ?? '')}". Use ${TWOFA_USAGE}.`);
  }
}

/**
 * Opens the modal at once (the trigger lasts 3 s) with the secret as text, then uploads the QR to
 * no channel and adds it to the modal. If the image cannot be shown, the file is deleted at once:
 * the secret is still there to type.
 */
async function openEnrollment(deps: SlackDeps, client: WebClient, notifier: SlackNotifier, actor: Actor, account: string, triggerId: string) {
  const e = await deps.services.totp.enroll(actor, account);
  const opened = await client.views.open({ trigger_id: triggerId, view: enrollModal(e.manualSecret, e.uri, null) });
  const viewId = opened.view?.id;
  if (!viewId) return;
  let fileId: string | null = null;
  try {
    fileId = (await notifier.upload({ filename: QR_FILENAME, title: QR_TITLE, content: e.png })).fileId;
    await deps.services.totp.attachQrFile(actor, fileId);
    await client.views.update({ view_id: viewId, hash: opened.view?.hash, view: enrollModal(e.manualSecret, e.uri, fileId) });
  } catch (error) {
    deps.logger.warn({ error: describeError(error) }, 'could not show the 2FA QR code; the secret is in the modal');
    if (fileId) await dropQrFile(deps, notifier, actor.orgId, actor.userId!);
  }
}

async function deleteQr(deps: SlackDeps, notifier: SlackNotifier, fileId: string) {
  await notifier.deleteFile(fileId).catch((error) => deps.logger.warn({ error: describeError(error) }, 'could not delete a 2FA QR file'));
}

/** Deletes the user's enrollment QR file, if one is still in Slack. */
export async function dropQrFile(deps: SlackDeps, notifier: SlackNotifier, orgId: string, userId: string) {
  const fileId = await deps.services.totp.takeQrFile(orgId, userId);
  if (fileId) await deleteQr(deps, notifier, fileId);
}

export function registerTwoFactor(app: App, deps: SlackDeps) {
  // The first code, typed in the enrollment modal: wrong → an error under the field, nothing else.
  app.view(ENROLL_CALLBACK, async ({ ack, body, view, client }) => {
    const notifier = new WebClientNotifier(client);
    let actor: Actor | null = null;
    try {
      actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      await deps.services.totp.verify(actor, totpFromState(view.state.values as never) ?? '');
    } catch (error) {
      const message = explain(error, deps.logger, '2fa enroll modal').text;
      // Malformed, wrong or locked: the user corrects the code in place.
      if (isDomainError(error) && ['invalid', 'forbidden', 'limit'].includes(error.code)) {
        return void (await ack({ response_action: 'errors', errors: { [TOTP_BLOCK]: message } }));
      }
      await ack({ response_action: 'update', view: infoModal('Two-factor', message) });
      if (actor) await dropQrFile(deps, notifier, actor.orgId, body.user.id);
      return;
    }
    await ack({ response_action: 'update', view: infoModal('Two-factor is on', enrolledText()) });
    await dropQrFile(deps, notifier, actor.orgId, body.user.id);
  });

  // Cancel or ×: the QR image goes; the pending enrollment stays for `/keyward 2fa verify <code>`.
  app.view({ callback_id: ENROLL_CALLBACK, type: 'view_closed' }, async ({ ack, body, client }) => {
    await ack();
    try {
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      await dropQrFile(deps, new WebClientNotifier(client), actor.orgId, body.user.id);
    } catch (error) {
      deps.logger.warn({ error: describeError(error) }, 'could not clean up after a closed 2FA modal');
    }
  });
}

/** Org admins get a DM on every repeated lockout (the service reports each one once). */
export function reportRepeatedLockouts(deps: SlackDeps, client: WebClient) {
  const notifier = new WebClientNotifier(client);
  deps.services.totp.onRepeatedLockout(async (e) => {
    for (const admin of await deps.admins.list(e.orgId)) {
      await notifier.dm(admin, lockoutNotice(e)).catch((error) =>
        deps.logger.warn({ err: (error as Error).message }, 'could not tell an org admin about a two-factor lockout'));
    }
  });
}
