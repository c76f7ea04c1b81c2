import { context, fitMessage, header, inline, note, quoted, roleName, section, slackDate, truncate, type Block, type Message } from './common.js';

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
