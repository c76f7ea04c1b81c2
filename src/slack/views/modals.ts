import { ENVIRONMENTS, SCOPES } from '../../domain/keys.js';
import { context, esc, plain, section, type ModalView } from './common.js';

/** The create modal's optional code field: only prod keys created without approval need it. */
export const PROD_CODE_HINT = 'Needed for prod keys that need no approval: the current 6-digit code from your authenticator app.';

export const CREATE_KEY_CALLBACK = 'keyward_keys_create';
export const REVOKE_KEY_CALLBACK = 'keyward_keys_revoke';

/** What a modal remembers between opening and submission (≤ 3000 chars). */
export interface ModalMeta {
  /** response_url of the slash command, so the outcome lands where the user asked. */
  r?: string;
  /** key id (revoke). */
  k?: string;
}
export const encodeMeta = (m: ModalMeta) => JSON.stringify(m);
export function decodeMeta(raw: string | undefined): ModalMeta {
  try {
    const v = JSON.parse(raw || '{}') as ModalMeta;
    return typeof v === 'object' && v ? v : {};
  } catch {
    return {};
  }
}

const option = (value: string, label = value) => ({ text: plain(label), value });

export function createKeyModal(projects: string[], meta: ModalMeta): ModalView {
  const choices = projects.slice(0, 100).map((p) => option(p));
  return {
    type: 'modal',
    callback_id: CREATE_KEY_CALLBACK,
    private_metadata: encodeMeta(meta),
    title: plain('New API key', 24),
    submit: plain('Create key', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'input',
        block_id: 'name',
        label: plain('Name'),
        hint: plain('Letters, digits, spaces, - _ . (up to 64)', 150),
        element: { type: 'plain_text_input', action_id: 'value', max_length: 64, placeholder: plain('Production App') },
      },
      {
        type: 'input',
        block_id: 'project',
        label: plain('Project'),
        element: {
          type: 'static_select',
          action_id: 'value',
          placeholder: plain('Choose a project'),
          options: choices,
          ...(choices.length === 1 ? { initial_option: choices[0] } : {}),
        },
      },
      {
        type: 'input',
        block_id: 'scope',
        label: plain('Scope'),
        element: {
          type: 'static_select',
          action_id: 'value',
          options: SCOPES.map((s) => option(s)),
          initial_option: option('inference'),
        },
      },
      {
        type: 'input',
        block_id: 'env',
        label: plain('Environment'),
        element: {
          type: 'static_select',
          action_id: 'value',
          options: ENVIRONMENTS.map((e) => option(e)),
          initial_option: option('dev'),
        },
      },
      {
        type: 'input',
        block_id: 'expires',
        optional: true,
        label: plain('Expires after (days)'),
        hint: plain('Leave empty for a key that does not expire.', 150),
        element: { type: 'number_input', action_id: 'value', is_decimal_allowed: false, min_value: '1', max_value: '3650' },
      },
      context('The secret is sent to your DM with keyward once you submit.'),
    ],
  };
}

export function revokeKeyModal(k: { id: string; name: string; projectName: string }, meta: ModalMeta): ModalView {
  return {
    type: 'modal',
    callback_id: REVOKE_KEY_CALLBACK,
    private_metadata: encodeMeta(meta),
    title: plain('Revoke key', 24),
    submit: plain('Revoke', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(`Revoke \`${k.id}\` *${esc(k.name)}* in *${k.projectName}*? Apps using it stop working within seconds. This cannot be undone.`),
      {
        type: 'input',
        block_id: 'reason',
        optional: true,
        label: plain('Reason (optional)'),
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 500 },
      },
    ],
  };
}
