import { context, esc, fitMessage, header, inline, note, plain, quoted, roleName, section, slackDate, truncate, type Block, type Message, type ModalView } from './common.js';

export interface ProjectRowView {
  name: string;
  description: string;
  archivedAt: Date | null;
  alertChannelId: string | null;
  myRole: string | null;
  memberCount: number;
  activeKeys: number;
}

/** Lines are packed into sections (≤ 3000 chars each) so hundreds of projects stay within 50 blocks. */
export function packLines(lines: string[], maxBlocks: number): { blocks: Block[]; shown: number } {
  const blocks: Block[] = [];
  let chunk = '';
  let inChunk = 0;
  let shown = 0;
  for (const raw of lines) {
    const line = truncate(raw, 2900);
    if (chunk && chunk.length + 1 + line.length > 2900) {
      blocks.push(section(chunk));
      shown += inChunk;
      chunk = '';
      inChunk = 0;
      if (blocks.length >= maxBlocks) break;
    }
    chunk = chunk ? `${chunk}\n${line}` : line;
    inChunk++;
  }
  if (chunk && blocks.length < maxBlocks) {
    blocks.push(section(chunk));
    shown += inChunk;
  }
  return { blocks, shown };
}

export function projectList(rows: ProjectRowView[], orgAdmin: boolean): Message {
  if (rows.length === 0) {
    return note(
      orgAdmin
        ? 'There are no projects yet. Create one with `/project create <name> [description]`.'
        : 'You are not a member of any project yet. Ask a project Admin to add you (`/project add <name> @you developer`).',
    );
  }
  const lines = rows.map(
    (p) =>
      `• *${p.name}* — ${roleName(p.myRole, orgAdmin)} · ${p.activeKeys} active key${p.activeKeys === 1 ? '' : 's'} · ` +
      `${p.memberCount} member${p.memberCount === 1 ? '' : 's'}${p.description ? ` — ${inline(p.description, 80)}` : ''}`,
  );
  const { blocks, shown } = packLines(lines, 45);
  const more = rows.length - shown;
  const all: Block[] = [header(`Projects (${rows.length})`), ...blocks];
  if (more > 0) all.push(context(`…and ${more} more. \`/project show <name>\` shows one.`));
  return fitMessage(`Projects: ${rows.map((p) => p.name).join(', ')}`, all);
}

export interface ProjectDetailView {
  project: { name: string; description: string; alertChannelId: string | null; archivedAt: Date | null; createdAt: Date; createdBy: string };
  members: { userId: string; role: string }[];
  activeKeys: number;
}

export function projectDetail(d: ProjectDetailView): Message {
  const p = d.project;
  const byRole = (role: string) => d.members.filter((m) => m.role === role).map((m) => `<@${m.userId}>`);
  const memberLines = ['admin', 'developer', 'viewer'].map((r) => {
    const who = byRole(r);
    return `*${roleName(r)}s (${who.length}):* ${who.length ? who.slice(0, 60).join(' ') : '—'}${who.length > 60 ? ` …and ${who.length - 60} more` : ''}`;
  });
  const blocks: Block[] = [
    header(`Project ${p.name}${p.archivedAt ? ' (archived)' : ''}`),
    section(
      `${p.description ? `${quoted(p.description)}\n` : ''}*Active keys:* ${d.activeKeys} · *Alert channel:* ${p.alertChannelId ? `<#${p.alertChannelId}>` : 'none'}`,
    ),
    section(memberLines.join('\n')),
    context(`Created ${slackDate(p.createdAt)} by ${p.createdBy}${p.archivedAt ? ` · archived ${slackDate(p.archivedAt)}` : ''}`),
  ];
  return fitMessage(`Project ${p.name}: ${d.members.length} members, ${d.activeKeys} active keys`, blocks);
}

export const REMOVE_MEMBER_CALLBACK = 'project.remove_member';
/** Input blocks of the removal confirmation: what happens to the member's keys, and to whom. */
export const KEYS_CHOICE_BLOCK = 'keys_choice';
export const HEIR_BLOCK = 'transfer_to';

export interface RemovalPreviewView {
  project: { name: string };
  userId: string;
  role: string;
  keys: { id: string; name: string; environment: string; scope: string }[];
}

/**
 * The confirmation of `/project remove`: the member's active keys in the project, and whether they
 * are revoked (default) or handed to another Admin or Developer.
 */
export function removeMemberModal(p: RemovalPreviewView, meta: { responseUrl?: string }): ModalView {
  const blocks: Block[] = [section(`Remove <@${p.userId}> (${roleName(p.role)}) from *${p.project.name}*?`)];
  if (p.keys.length === 0) {
    blocks.push(context(`They own no active keys in ${p.project.name}.`));
  } else {
    const lines = p.keys.slice(0, 30).map((k) => `• \`${k.id}\` *${esc(k.name)}* · ${k.scope} · ${k.environment}`);
    if (p.keys.length > 30) lines.push(`…and ${p.keys.length - 30} more`);
    blocks.push(
      section(`They own ${p.keys.length} active key${p.keys.length === 1 ? '' : 's'} here:\n${lines.join('\n')}`),
      {
        type: 'input',
        block_id: KEYS_CHOICE_BLOCK,
        label: plain('Their keys'),
        element: {
          type: 'radio_buttons',
          action_id: 'value',
          initial_option: { text: plain('Revoke them now'), value: 'revoke' },
          options: [
            { text: plain('Revoke them now'), value: 'revoke' },
            { text: plain('Transfer them to the member below'), value: 'transfer' },
          ],
        },
      },
      {
        type: 'input',
        block_id: HEIR_BLOCK,
        optional: true,
        label: plain('New owner (an Admin or Developer of the project)'),
        element: { type: 'users_select', action_id: 'value' },
      },
    );
  }
  return {
    type: 'modal',
    callback_id: REMOVE_MEMBER_CALLBACK,
    private_metadata: JSON.stringify({ p: p.project.name, u: p.userId, r: meta.responseUrl }),
    title: plain('Remove member', 24),
    submit: plain('Remove', 24),
    close: plain('Cancel', 24),
    blocks,
  };
}

const keyIds = (keys: { id: string }[]) => keys.slice(0, 20).map((k) => `\`${k.id}\``).join(', ') + (keys.length > 20 ? ` …and ${keys.length - 20} more` : '');
const count = (n: number) => `${n} active key${n === 1 ? '' : 's'}`;

/** What a removal did, for whoever removed the member. */
export function memberRemoved(r: { project: { name: string }; userId: string; previous: string; transferTo: string | null; revokedKeys: { id: string }[]; transferredKeys: { id: string }[] }): Message {
  const keys = r.transferTo && r.transferredKeys.length
    ? `Their ${count(r.transferredKeys.length)} now belong to <@${r.transferTo}>: ${keyIds(r.transferredKeys)}.`
    : r.revokedKeys.length
      ? `Revoked their ${count(r.revokedKeys.length)}: ${keyIds(r.revokedKeys)}.`
      : 'They owned no active keys there.';
  return note(`Removed <@${r.userId}> (${roleName(r.previous)}) from *${r.project.name}*. ${keys}`);
}

/** To the new owner of transferred keys. */
export const keysTransferred = (r: { project: { name: string }; userId: string; transferredKeys: { id: string }[] }, by: string) =>
  note(`:key: <@${by}> removed <@${r.userId}> from *${r.project.name}* and made you the owner of ${count(r.transferredKeys.length)}: ${keyIds(r.transferredKeys)}. \`/keys list ${r.project.name}\` shows them.`);

export interface OffboardedProject {
  projectName: string;
  role: string | null;
  revokedKeys: { id: string }[];
  withoutAdmin: boolean;
}

/** To a project's Admins (and org admins when it lost its last Admin) after a Slack user left. */
export function memberOffboarded(userId: string, reason: 'deactivated' | 'left', p: OffboardedProject): Message {
  const why = reason === 'left' ? 'left the Slack workspace' : 'was deactivated in Slack';
  const parts = [`:busts_in_silhouette: <@${userId}> ${why}.`];
  if (p.role) parts.push(`They were removed from *${p.projectName}* (${roleName(p.role)}).`);
  parts.push(p.revokedKeys.length ? `Their ${count(p.revokedKeys.length)} in *${p.projectName}* ${p.revokedKeys.length === 1 ? 'was' : 'were'} revoked: ${keyIds(p.revokedKeys)}.` : `They owned no active keys in *${p.projectName}*.`);
  if (p.withoutAdmin) parts.push(`*${p.projectName}* has no Admin now: org admins can manage it; make someone Admin with \`/project role ${p.projectName} @someone admin\`.`);
  return note(parts.join(' '));
}
