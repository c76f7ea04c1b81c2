import { keyUsable, type KeyStatus } from '../domain/keys.js';
import type { KeyView } from '../services/keys.js';

/** Columns padded to the widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/** Service messages are written for Slack; say the same thing in CLI terms. */
export function cliText(message: string): string {
  return message
    .replace(/`\/project(s)? /g, '`keyward projects ')
    .replace(/`\/keys /g, '`keyward keys ')
    .replace(/`\/limits set /g, '`keyward limits set ')
    .replace(/`\/keyward help`/g, '`keyward help`')
    .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, '$1');
}

/** Status as it stands now: an active key past its expiry is reported expired. */
export function effectiveStatus(k: { status: KeyStatus; expiresAt: Date | null }, now: Date): KeyStatus {
  return k.status === 'active' && !keyUsable(k, now) ? 'expired' : k.status;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The CLI's stable JSON for a key: never the secret or its hash. */
export function keyJson(k: KeyView & { projectName: string }, now: Date) {
  return {
    id: k.id,
    name: k.name,
    project: k.projectName,
    projectId: k.projectId,
    scope: k.scope,
    environment: k.environment,
    owner: k.ownerId,
    status: effectiveStatus(k, now),
    hint: k.hint,
    rpm: k.rpm,
    createdAt: iso(k.createdAt),
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
    revokedBy: k.revokedBy,
    revokeReason: k.revokeReason,
    rotatedAt: iso(k.rotatedAt),
    graceEndsAt: iso(k.graceEndsAt),
    previousHint: k.prevHint,
  };
}

export interface ProjectLike {
  id: string;
  name: string;
  description: string;
  alertChannelId: string | null;
  createdBy: string;
  createdAt: Date;
  archivedAt: Date | null;
}

export function projectJson(p: ProjectLike) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    alertChannel: p.alertChannelId,
    archived: p.archivedAt !== null,
    archivedAt: iso(p.archivedAt),
    createdBy: p.createdBy,
    createdAt: iso(p.createdAt),
  };
}
