/** Two-factor messages and the step-up input shared by sensitive-action modals. Pure. */
import { who } from '../../domain/approvals.js';
import type { TwoFactorStatus } from '../../services/totp.js';
import { context, plain, section, slackDate, type Block, type Message } from './common.js';

/** Block and action id of the TOTP field in any modal that needs a step-up. */
export const TOTP_BLOCK = 'totp';
export const TOTP_ACTION = 'value';
export const QR_FILENAME = 'keyward-2fa.png';
export const QR_TITLE = 'keyward two-factor QR code';

/** The code field: 6 digits (a space in the middle is accepted, hence 7). */
export function totpInput(): Block {
  return {
    type: 'input',
    block_id: TOTP_BLOCK,
    label: plain('Code from your authenticator app'),
    hint: plain('Two-factor step-up: enter the current 6-digit code.', 150),
    element: { type: 'plain_text_input', action_id: TOTP_ACTION, min_length: 6, max_length: 7, placeholder: plain('123456') },
  };
}

/** Reads the code from a submitted view's state (undefined when the modal had no code field). */
export function totpFromState(values: Record<string, Record<string, { value?: string | null }>> | undefined): string | undefined {
  return values?.[TOTP_BLOCK]?.[TOTP_ACTION]?.value ?? undefined;
}

/**
 * The enrollment DM. The QR image is uploaded with it (same DM); the secret is shown for manual
 * entry because some authenticators cannot scan. Only its owner ever sees this.
 */
export function enrollMessage(manualSecret: string): Message {
  return {
    text: 'Two-factor enrollment: scan the QR code or enter the secret, then run /keyward 2fa verify <code>.',
    blocks: [
      section(
        ':closed_lock_with_key: *Set up two-factor for keyward*\n' +
          '1. Scan the QR code below with your authenticator app (1Password, Google Authenticator, Authy…).\n' +
          `2. Or enter this secret by hand (time-based, 6 digits, 30 s): \`${manualSecret}\`\n` +
          '3. Finish with `/keyward 2fa verify <code>`. Until then two-factor is not active.',
      ),
      context('Keep this secret to yourself. Delete this message once your app shows codes.'),
    ],
  };
}

export const enrolledMessage = (): Message => ({
  text: 'Two-factor is on.',
  blocks: [section(':white_check_mark: Two-factor is on. keyward asks for a code before sensitive actions (revoking prod keys, approving requests, changing limits or roles, archiving projects).')],
});

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
