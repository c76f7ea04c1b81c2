/**
 * `/keyward 2fa enroll|verify <code>|disable <code>|reset @user [code]|status`. Enrollment goes to
 * the user's DM (QR PNG uploaded with files.getUploadURLExternal + completeUploadExternal, and the
 * secret for manual entry); nothing secret is ever put in a channel or the audit log.
 */
import type { WebClient } from '@slack/web-api';
import { invalid } from '../../domain/errors.js';
import type { Actor } from '../../services/index.js';
import { WebClientNotifier } from '../../services/notifier.js';
import type { SlackDeps } from '../context.js';
import { clip, parseUser } from '../parse.js';
import { note, type Message } from '../views/common.js';
import { disabledMessage, enrolledMessage, enrollMessage, lockoutNotice, QR_FILENAME, QR_TITLE, resetNotice, statusMessage } from '../views/twofactor.js';

export const TWOFA_USAGE = '`/keyward 2fa enroll`, `/keyward 2fa verify <code>`, `/keyward 2fa disable <code>`, `/keyward 2fa status`, `/keyward 2fa reset @user [your code]` (org admins)';

export async function runTwoFactor(deps: SlackDeps, client: WebClient, actor: Actor, args: string[], userName?: string): Promise<Message> {
  const { totp } = deps.services;
  const [sub, ...rest] = args;
  const notifier = new WebClientNotifier(client);
  switch ((sub ?? 'status').toLowerCase()) {
    case 'status':
      return statusMessage(await totp.status(actor), deps.now());
    case 'enroll': {
      const e = await totp.enroll(actor, userName || actor.userId!);
      const posted = await notifier.dm(actor.userId!, enrollMessage(e.manualSecret));
      await notifier.upload({ channel: posted.channel, filename: QR_FILENAME, title: QR_TITLE, content: e.png });
      return note('I sent you a DM with the QR code and the secret. Scan it, then run `/keyward 2fa verify <code>`.');
    }
    case 'verify':
      await totp.verify(actor, rest.join(''));
      return enrolledMessage();
    case 'disable':
      await totp.disable(actor, rest.join(''));
      return disabledMessage();
    case 'reset': {
      const target = parseUser(rest[0]);
      await totp.adminReset(actor, target, rest.slice(1).join('') || null);
      const required = deps.services.deps.require2fa ?? false;
      await notifier.dm(target, resetNotice(actor.userId!, required)).catch((error) =>
        deps.logger.warn({ err: (error as Error).message }, 'could not tell the user about the 2FA reset'));
      return note(`Two-factor of <@${target}> is reset; they were told by DM.`);
    }
    default:
      throw invalid(`Unknown 2fa command "${clip(sub ?? '')}". Use ${TWOFA_USAGE}.`);
  }
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
