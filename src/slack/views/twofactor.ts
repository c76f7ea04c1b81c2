/** Two-factor messages and the step-up input shared by sensitive-action modals. Pure. */
import { who } from '../../domain/approvals.js';
import { stepUpSummary } from '../../domain/stepup.js';
import type { TwoFactorStatus } from '../../services/totp.js';
import { context, plain, section, slackDate, type Block, type Message, type ModalView } from './common.js';

/** Block and action id of the TOTP field in any modal that needs a step-up. */
export const TOTP_BLOCK = 'totp';
export const TOTP_ACTION = 'value';
export const QR_FILENAME = 'keyward-2fa.png';
export const QR_ALT = 'QR code of your keyward two-factor secret';
export const QR_TITLE = 'keyward two-factor QR code';

/** The code field: 6 digits (a space in the middle is accepted, hence 7). */
export function totpInput(hint = 'Two-factor step-up: enter the current 6-digit code.'): Block {
  return {
    type: 'input',
    block_id: TOTP_BLOCK,
    label: plain('Code from your authenticator app'),
    hint: plain(hint, 150),
    element: { type: 'plain_text_input', action_id: TOTP_ACTION, min_length: 6, max_length: 7, placeholder: plain('123456') },
  };
}

/** Reads the code from a submitted view's state (undefined when the modal had no code field). */
export function totpFromState(values: Record<string, Record<string, { value?: string | null }>> | undefined): string | undefined {
  return values?.[TOTP_BLOCK]?.[TOTP_ACTION]?.value ?? undefined;
}

export const ENROLL_CALLBACK = 'keyward_2fa_enroll';

/**
 * The enrollment modal: the QR image (a private Slack file, deleted once the modal closes or
 * enrollment ends; absent until uploaded), the secret for typing by hand, and the first code.
 * A modal is never part of any conversation history; only its owner ever sees it.
 */
export function enrollModal(manualSecret: string, uri: string, qrFileId: string | null): ModalView {
  return {
    type: 'modal',
    callback_id: ENROLL_CALLBACK,
    notify_on_close: true,
    title: plain('Two-factor setup', 24),
    submit: plain('Turn on', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(':closed_lock_with_key: *Set up two-factor for keyward*\n1. Scan the QR code with your authenticator app (1Password, Google Authenticator, Authy…), or enter the secret below by hand (time-based, 6 digits, 30 s).\n2. Enter the code it shows to turn two-factor on.'),
      ...(qrFileId ? [{ type: 'image', slack_file: { id: qrFileId }, alt_text: QR_ALT } as Block] : []),
      section(`*Secret:* \`${manualSecret}\``),
      context(`Apps that take a link: \`${uri}\``),
      totpInput('The current 6-digit code from your authenticator app, to turn two-factor on.'),
      context('This window is the only place the secret is shown, and the QR image is deleted when it closes. If you close it before entering a code, finish later with `/keyward 2fa verify <code>`.'),
    ],
  };
}

export const enrolledText = () => `:white_check_mark: Two-factor is on. keyward asks for a code before sensitive actions: ${stepUpSummary()}.`;
export const enrolledMessage = (): Message => ({ text: 'Two-factor is on.', blocks: [section(enrolledText())] });

export const disabledMessage = (): Message => ({ text: 'Two-factor is off.', blocks: [section('Two-factor is off for you. Run `/keyward 2fa enroll` to turn it on again.')] });

/** To each org admin when someone's two-factor locks again (repeated wrong codes: maybe guessing). */
export function lockoutNotice(e: { userId: string; lockouts: number; until: Date }): Message {
  const line = `${who(e.userId)}'s keyward two-factor locked for the ${ordinal(e.lockouts)} time in a row after repeated wrong codes; ` +
    `it stays locked until ${slackDate(e.until)}. If they are not mistyping, someone may be guessing their codes with their Slack session.`;
  return {
    text: line,
    blocks: [section(`:rotating_light: ${line}`), context('Each lockout in a row lasts twice as long (up to 24 h). A good code ends the series; `/keyward 2fa reset @user` starts over.')],
  };
}

const ordinal = (n: number) => `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;

/** Sent to a user whose enrollment an org admin reset. */
export function resetNotice(adminId: string, required: boolean): Message {
  const line = `${who(adminId)} reset your keyward two-factor enrollment.` +
    (required ? ' Two-factor is required here: run `/keyward 2fa enroll` before your next sensitive action.' : ' Run `/keyward 2fa enroll` to set it up again.');
  return { text: line, blocks: [section(`:warning: ${line}`)] };
}

export function statusMessage(s: TwoFactorStatus, now: Date): Message {
  const state = { none: 'off', pending: 'pending — finish with `/keyward 2fa verify <code>`', active: 'on' }[s.status];
  const lines = [`Two-factor: *${state}*`];
  if (s.lockedUntil && s.lockedUntil > now) lines.push(`:lock: Locked after too many wrong codes until ${slackDate(s.lockedUntil)}.`);
  if (s.stepUp === 'enroll') lines.push('Two-factor is required in this workspace: run `/keyward 2fa enroll`.');
  return { text: `Two-factor: ${s.status}`, blocks: [section(lines.join('\n'))] };
}
