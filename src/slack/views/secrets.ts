/** Views that carry or announce a secret. Only `secretEphemeral` and `revealModal` contain one. */
import { context, esc, section, slackDate, type Message, type ModalView } from './common.js';

export const REVEAL_ACTION = 'keyward_reveal';

export interface SecretKeyView {
  id: string;
  name: string;
  projectName: string;
}

const what = (k: SecretKeyView, kind: 'created' | 'rotated') =>
  `${kind === 'created' ? 'New key' : 'New secret for key'} \`${k.id}\` *${esc(k.name)}* (${k.projectName})`;

/** Posted with chat.postEphemeral in the owner's DM: seen once, never stored by Slack. */
export function secretEphemeral(k: SecretKeyView, secret: string, kind: 'created' | 'rotated'): Message {
  return {
    text: `Secret for ${k.id}: ${secret}`,
    blocks: [
      section(`:key: ${what(k, kind)}\n\`\`\`${secret}\`\`\``),
      context('Copy it now into your secret store. keyward keeps only a hash; nobody can show it again.'),
    ],
  };
}

/** The persisted DM: no secret, only a one-time Reveal button. */
export function revealMessage(k: SecretKeyView, stashId: string, expiresAt: Date, kind: 'created' | 'rotated'): Message {
  return {
    text: `${kind === 'created' ? 'New key' : 'New secret for key'} ${k.id} (${k.name}): reveal the secret once, until ${expiresAt.toISOString()}.`,
    blocks: [
      section(`:key: ${what(k, kind)}. If you missed the secret above, reveal it once — the button works until ${slackDate(expiresAt)}.`),
      {
        type: 'actions',
        block_id: 'keyward_reveal_actions',
        elements: [
          {
            type: 'button',
            action_id: REVEAL_ACTION,
            style: 'primary',
            text: { type: 'plain_text', text: 'Reveal secret' },
            value: stashId,
          },
        ],
      },
    ],
  };
}

/** Replaces the Reveal message after the reveal or when the window closed. */
export function revealClosed(keyId: string, reason: 'revealed' | 'expired', at: Date): Message {
  const text =
    reason === 'revealed'
      ? `The secret of ${keyId} was revealed ${at.toISOString()}; the button is gone.`
      : `The reveal window for ${keyId} has closed and the secret was erased. Need a new one? /keys rotate ${keyId}`;
  return {
    text,
    blocks: [
      section(
        reason === 'revealed'
          ? `:lock: The secret of \`${keyId}\` was revealed ${slackDate(at)}. keyward no longer holds it.`
          : `:lock: The reveal window for \`${keyId}\` has closed and the secret was erased. Need a new one? \`/keys rotate ${keyId}\``,
      ),
    ],
  };
}

export const loadingModal = (): ModalView => ({
  type: 'modal',
  title: { type: 'plain_text', text: 'Your secret' },
  close: { type: 'plain_text', text: 'Close' },
  blocks: [section('Fetching your secret…')],
});

export function revealModal(keyId: string, secret: string): ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'Your secret' },
    close: { type: 'plain_text', text: 'Done' },
    blocks: [
      section(`Secret of \`${keyId}\`:\n\`\`\`${secret}\`\`\``),
      context('Shown once. Copy it now; keyward has erased its copy.'),
    ],
  };
}

export const infoModal = (title: string, text: string): ModalView => ({
  type: 'modal',
  title: { type: 'plain_text', text: title.slice(0, 24) },
  close: { type: 'plain_text', text: 'Close' },
  blocks: [section(text)],
});
