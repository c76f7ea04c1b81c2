import { context, esc, fitMessage, header, inline, note, section, slackDate, type Block, type Message } from './common.js';
import { packLines } from './projects.js';

export interface KeyRowView {
  id: string;
  name: string;
  projectName: string;
  scope: string;
  environment: string;
  ownerId: string;
  status: string;
  hint: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt?: Date | null;
  revokedBy?: string | null;
  revokeReason?: string | null;
  rotatedAt?: Date | null;
  graceEndsAt?: Date | null;
  prevHint?: string | null;
  rpm?: number | null;
}

export const KEYS_PAGE_SIZE = 40;
export const PAGE_ACTION = 'keyward_keys_page';

export const keyLine = (k: KeyRowView) =>
  `• \`${k.id}\` *${esc(k.name)}* · ${k.projectName} · ${k.scope} · ${k.environment} · <@${k.ownerId}> · ` +
  `${k.hint} · expires ${slackDate(k.expiresAt)} · last used ${slackDate(k.lastUsedAt)}`;

/** One page of keys; a "Next" button carries the offset (lists stay far below 50 blocks). */
export function keyList(keys: KeyRowView[], opts: { project?: string; offset?: number } = {}): Message {
  const scopeText = opts.project ? ` in ${opts.project}` : '';
  if (keys.length === 0) {
    return note(
      `No active keys${scopeText} that you can see. Create one with \`/keys create\`${opts.project ? '' : ' or list a project with `/keys list <project>`'}.`,
    );
  }
  const offset = Math.max(0, Math.min(opts.offset ?? 0, keys.length - 1));
  const page = keys.slice(offset, offset + KEYS_PAGE_SIZE);
  const { blocks, shown } = packLines(page.map(keyLine), 40);
  const end = offset + shown;
  const out: Block[] = [header(`Active keys${scopeText} (${keys.length})`), ...blocks];
  const buttons = [];
  if (offset > 0) buttons.push(pageButton('Previous', opts.project, Math.max(0, offset - KEYS_PAGE_SIZE)));
  if (end < keys.length) buttons.push(pageButton('Next', opts.project, end));
  out.push(context(`Showing ${offset + 1}–${end} of ${keys.length}. \`/keys show <key-id>\` for details.`));
  if (buttons.length) out.push({ type: 'actions', elements: buttons });
  const text = `Active keys${scopeText}: ${page.slice(0, shown).map((k) => `${k.id} (${k.name})`).join(', ')}`;
  return fitMessage(text, out);
}

function pageButton(label: string, project: string | undefined, offset: number) {
  return {
    type: 'button' as const,
    action_id: `${PAGE_ACTION}_${label.toLowerCase()}`,
    text: { type: 'plain_text' as const, text: label },
    value: JSON.stringify({ p: project ?? null, o: offset }),
  };
}

export function keyDetail(k: KeyRowView): Message {
  const lines = [
    `*Project:* ${k.projectName} · *Scope:* ${k.scope} · *Environment:* ${k.environment}`,
    `*Owner:* <@${k.ownerId}> · *Status:* ${k.status} · *Secret:* ${k.hint}`,
    `*Created:* ${slackDate(k.createdAt)} · *Expires:* ${slackDate(k.expiresAt)} · *Last used:* ${slackDate(k.lastUsedAt)}`,
  ];
  if (k.rpm) lines.push(`*Rate limit:* ${k.rpm} requests/minute`);
  if (k.rotatedAt) {
    lines.push(
      `*Rotated:* ${slackDate(k.rotatedAt)}${k.prevHint && k.graceEndsAt ? ` · previous secret ${k.prevHint} works until ${slackDate(k.graceEndsAt)}` : ''}`,
    );
  }
  if (k.revokedAt) {
    lines.push(`*Revoked:* ${slackDate(k.revokedAt)} by ${k.revokedBy ?? 'unknown'}${k.revokeReason ? ` — “${inline(k.revokeReason)}”` : ''}`);
  }
  return {
    text: `Key ${k.id} (${k.name}) in ${k.projectName}: ${k.status}`,
    blocks: [header(`Key ${k.name}`), section(`\`${k.id}\``), section(lines.join('\n'))],
  };
}

const DM_NOTE = 'The secret is in your DM with keyward: shown once, and behind a *Reveal* button for 15 minutes.';

export function keyCreated(k: KeyRowView): Message {
  const text = `Created key ${k.id} (${k.name}) in ${k.projectName}. ${DM_NOTE.replace(/\*/g, '')}`;
  return {
    text,
    blocks: [
      section(`:white_check_mark: Created key \`${k.id}\` *${esc(k.name)}* in *${k.projectName}*`),
      context(`${k.scope} · ${k.environment} · expires ${slackDate(k.expiresAt)}${k.rpm ? ` · ${k.rpm} rpm` : ''}`),
      section(DM_NOTE),
    ],
  };
}

/** Told to whoever rotated: the new secret went to the key's owner, who may be someone else. */
export function keyRotated(k: KeyRowView, rotatorId: string | null): Message {
  const grace = k.prevHint && k.graceEndsAt
    ? `The previous secret (${k.prevHint}) keeps working until ${slackDate(k.graceEndsAt)}.`
    : 'The previous secret stopped working now.';
  const sent = k.ownerId === rotatorId ? DM_NOTE : `The new secret went only to the key's owner, <@${k.ownerId}>, by DM (Reveal button, 15 minutes); you do not get it.`;
  return {
    text: `Rotated key ${k.id} (${k.name}). ${grace} ${sent.replace(/\*/g, '')}`,
    blocks: [section(`:arrows_counterclockwise: Rotated key \`${k.id}\` *${esc(k.name)}* in *${k.projectName}*`), section(grace), section(sent)],
  };
}

export const keyRevoked = (k: { id: string; name: string; projectName: string }) =>
  note(`:no_entry: Revoked key \`${k.id}\` *${esc(k.name)}* in *${k.projectName}*. It stops working within seconds.`);

export const alreadyHandled = (keyId: string | undefined, what: string) =>
  note(`This request was already handled${keyId ? ` (${what} \`${keyId}\`)` : ''}: nothing was done twice.`);

/** When the secret could not reach its owner, the key does not linger with a secret nobody holds. */
export function deliveryFailed(keyId: string, outcome: 'revoked' | 'rotation_undone' | 'superseded', owner: { ownerId: string; viewerId: string | null } | null = null): Message {
  const undo =
    outcome === 'revoked'
      ? `so key \`${keyId}\` was revoked to keep it safe. Nothing else changed; run the command again once DMs with keyward work.`
      : outcome === 'rotation_undone'
        ? `so the rotation of \`${keyId}\` was undone: its previous secret still works. Try \`/keys rotate ${keyId}\` again later.`
        : `and \`${keyId}\` was rotated again or revoked meanwhile, so nothing was undone. \`/keys show ${keyId}\` shows its state.`;
  const where = owner && owner.ownerId !== owner.viewerId ? `<@${owner.ownerId}>'s DM with keyward` : 'your DM with keyward';
  return note(`:warning: I could not deliver the new secret to ${where}, ${undo}`);
}
