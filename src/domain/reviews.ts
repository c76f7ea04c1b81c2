/**
 * Quarterly access reviews: snapshot flags, Keep/Revoke rules, reminder cadence, quarter start in the
 * org time zone, closing and the CSV report. Pure: clock and time zone come in as arguments.
 *
 * Decisions made here:
 * - Any Revoke wins: a Revoke overrides an earlier Keep; nothing overrides a Revoke (it acted at once).
 * - Nobody keeps their own access (membership or key they own): another reviewer must. Revoking
 *   one's own is allowed.
 * - The due date is a local calendar date; `dueAt` is its last second (23:59:59 local).
 * - A campaign is due automatically for the quarter that contains `now` when the org existed at the
 *   quarter's start (so a missed run is caught up, but a new install does not start one mid-quarter).
 */
import { approverRecipients, who, type MemberRef } from './approvals.js';
import { addDays, dateKey, localDate, periodOf, startOfDay, type LocalDate } from './calendar.js';
import { parseDays, DAY } from './durations.js';
import { invalid, type ErrorCode } from './errors.js';
import type { Environment } from './keys.js';
import { newId } from './random.js';
import type { Role } from './roles.js';

export const INACTIVE_MEMBER_DAYS = 90;
export const UNUSED_KEY_DAYS = 30;
export const OLD_KEY_DAYS = 90;
export const DEFAULT_DUE_DAYS = 14;
export const MAX_DUE_DAYS = 90;

export type ItemKind = 'membership' | 'key';
export type ReviewFlag = 'inactive_member' | 'key_unused' | 'key_old';
export type ReviewDecision = 'keep' | 'revoke';

export const FLAG_LABELS: Record<ReviewFlag, string> = {
  inactive_member: `no activity for ${INACTIVE_MEMBER_DAYS} days`,
  key_unused: `unused for ${UNUSED_KEY_DAYS} days`,
  key_old: `older than ${OLD_KEY_DAYS} days`,
};

export interface Campaign {
  id: string;
  orgId: string;
  /** `2026-Q2` for the automatic quarterly run (unique per org), null when started by hand. */
  slot: string | null;
  startedBy: string;
  startedAt: Date;
  dueAt: Date;
  status: 'open' | 'closed';
  closedAt: Date | null;
  closedBy: string | null;
  unreviewed: ReviewDecision | null;
}

export interface ReviewItem {
  id: string;
  campaignId: string;
  projectId: string;
  projectName: string;
  kind: ItemKind;
  /** User id (membership) or key id (key). */
  subjectId: string;
  /** Whose access it is: the member, or the key's owner. */
  ownerId: string;
  /** Role (membership) or key name (key). */
  label: string;
  environment: Environment | null;
  flags: ReviewFlag[];
  lastActivityAt: Date | null;
  decision: ReviewDecision | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  /** Decided by closing the campaign, not by a person. */
  auto: boolean;
}

export interface SnapshotProject {
  id: string;
  name: string;
  members: { userId: string; role: Role; addedAt: Date }[];
  keys: { id: string; name: string; ownerId: string; environment: Environment; createdAt: Date; rotatedAt: Date | null; lastUsedAt: Date | null }[];
}

export type Result<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

const daysAgo = (now: Date, days: number) => now.getTime() - days * DAY;
const latest = (...ds: (Date | null | undefined)[]) =>
  ds.reduce<Date | null>((m, d) => (d && (!m || d.getTime() > m.getTime()) ? d : m), null);

export function parseDueDays(raw: string): number {
  const ms = parseDays(raw, '--due');
  const days = ms / DAY;
  if (days > MAX_DUE_DAYS) throw invalid(`--due is at most ${MAX_DUE_DAYS} days (got ${days}d).`);
  return days;
}

/** The end of the local date `dueDays` after the start: 23:59:59 in the org's zone. */
export function dueAtFor(start: Date, dueDays: number, timeZone: string): Date {
  return new Date(startOfDay(addDays(localDate(start, timeZone), dueDays + 1), timeZone).getTime() - 1000);
}

export function newCampaign(
  input: { orgId: string; startedBy: string; slot?: string | null; dueDays?: number },
  now: Date,
  timeZone: string,
): Campaign {
  return {
    id: newId('rev'),
    orgId: input.orgId,
    slot: input.slot ?? null,
    startedBy: input.startedBy,
    startedAt: now,
    dueAt: dueAtFor(now, input.dueDays ?? DEFAULT_DUE_DAYS, timeZone),
    status: 'open',
    closedAt: null,
    closedBy: null,
    unreviewed: null,
  };
}

/** Every membership and active key of one project, flagged. `lastSeen`: last command per user. */
export function snapshotItems(campaignId: string, p: SnapshotProject, lastSeen: ReadonlyMap<string, Date | null>, now: Date): ReviewItem[] {
  const base = { campaignId, projectId: p.id, projectName: p.name, decision: null, decidedBy: null, decidedAt: null, auto: false };
  const members = p.members.map((m): ReviewItem => {
    const keyUse = latest(...p.keys.filter((k) => k.ownerId === m.userId).map((k) => k.lastUsedAt));
    const activity = latest(lastSeen.get(m.userId), keyUse);
    // A recent joiner has had no chance to be active: count from when they were added.
    const inactive = (latest(activity, m.addedAt) ?? m.addedAt).getTime() <= daysAgo(now, INACTIVE_MEMBER_DAYS);
    return {
      ...base, id: newId('itm'), kind: 'membership', subjectId: m.userId, ownerId: m.userId, label: m.role,
      environment: null, flags: inactive ? ['inactive_member'] : [], lastActivityAt: activity,
    };
  });
  const keys = p.keys.map((k): ReviewItem => {
    const flags: ReviewFlag[] = [];
    if ((k.lastUsedAt ?? k.createdAt).getTime() <= daysAgo(now, UNUSED_KEY_DAYS)) flags.push('key_unused');
    // Age of the secret: a rotation renews it.
    if ((k.rotatedAt ?? k.createdAt).getTime() <= daysAgo(now, OLD_KEY_DAYS)) flags.push('key_old');
    return {
      ...base, id: newId('itm'), kind: 'key', subjectId: k.id, ownerId: k.ownerId, label: k.name,
      environment: k.environment, flags, lastActivityAt: k.lastUsedAt,
    };
  });
  return [...members, ...keys];
}

/** Project reviewers: its Admins; when none, the org admins. */
export const reviewersFor = (members: readonly MemberRef[], orgAdmins: readonly string[]) => approverRecipients('', members, orgAdmins);

export interface Reviewer {
  id: string;
  orgAdmin: boolean;
  /** Role in the item's project. */
  role: Role | null;
}

export function decideItem(campaign: Campaign, item: ReviewItem, r: Reviewer, decision: ReviewDecision, now: Date): Result<ReviewItem> {
  if (campaign.status === 'closed') return { ok: false, code: 'conflict', message: `This review was closed by ${who(campaign.closedBy ?? '?')}.` };
  if (!r.orgAdmin && r.role !== 'admin') {
    return { ok: false, code: 'forbidden', message: `Only Admins of ${item.projectName} or org admins review its access.` };
  }
  if (item.decision === 'revoke') return { ok: false, code: 'conflict', message: `Already revoked by ${who(item.decidedBy ?? '?')}.` };
  if (decision === 'keep' && item.ownerId === r.id) {
    return { ok: false, code: 'forbidden', message: 'You cannot keep your own access: another reviewer must decide.' };
  }
  // A second Keep changes nothing: the first reviewer stays on record (double clicks are harmless).
  if (decision === 'keep' && item.decision === 'keep') return { ok: true, value: item };
  return { ok: true, value: { ...item, decision, decidedBy: r.id, decidedAt: now, auto: false } };
}

/** "Keep all remaining": every undecided item the reviewer may keep; their own are left for others. */
export function keepAllRemaining(campaign: Campaign, items: readonly ReviewItem[], r: Reviewer, now: Date): Result<{ kept: ReviewItem[]; skippedOwn: number }> {
  const kept: ReviewItem[] = [];
  let skippedOwn = 0;
  for (const item of items) {
    if (item.decision) continue;
    if (item.ownerId === r.id) {
      skippedOwn++;
      continue;
    }
    const t = decideItem(campaign, item, r, 'keep', now);
    if (!t.ok) return t;
    kept.push(t.value);
  }
  return { ok: true, value: { kept, skippedOwn } };
}

/**
 * Closes an open campaign: unreviewed items get `unreviewed` (auto). Returns all items and those
 * the caller must now revoke (the revokes decided by people already acted).
 */
export function closeCampaign(
  campaign: Campaign,
  items: readonly ReviewItem[],
  unreviewed: ReviewDecision,
  by: { id: string; orgAdmin: boolean },
  now: Date,
): Result<{ campaign: Campaign; items: ReviewItem[]; toRevoke: ReviewItem[] }> {
  if (!by.orgAdmin) return { ok: false, code: 'forbidden', message: 'Only org admins close an access review.' };
  if (campaign.status === 'closed') return { ok: false, code: 'conflict', message: `This review was already closed by ${who(campaign.closedBy ?? '?')}.` };
  const toRevoke: ReviewItem[] = [];
  const out = items.map((item) => {
    if (item.decision) return item;
    const decided = { ...item, decision: unreviewed, decidedBy: by.id, decidedAt: now, auto: true };
    if (unreviewed === 'revoke') toRevoke.push(decided);
    return decided;
  });
  return { ok: true, value: { campaign: { ...campaign, status: 'closed', closedAt: now, closedBy: by.id, unreviewed }, items: out, toRevoke } };
}

// ---- Reminder cadence -------------------------------------------------------------------------

const dayNumber = (d: LocalDate) => Math.round(Date.UTC(d.year, d.month - 1, d.day) / DAY);

/**
 * Whether a reminder is due at `now`. Reminder days (local calendar days in `timeZone`): every 7
 * days after the start while more than 3 days before the due date, then 3 days before, 1 day
 * before, the due date, then every day while overdue. Due when a reminder day in
 * (last reminder or start, today] exists: a missed day yields one reminder, never a burst.
 */
export function reminderDue(start: Date, due: Date, lastReminderAt: Date | null, now: Date, timeZone: string): boolean {
  const s = dayNumber(localDate(start, timeZone));
  const d = dayNumber(localDate(due, timeZone));
  const n = dayNumber(localDate(now, timeZone));
  const after = Math.max(s, lastReminderAt ? dayNumber(localDate(lastReminderAt, timeZone)) : s);
  if (n <= after) return false;
  if (n >= d) return true; // due date and every overdue day
  for (const day of [d - 3, d - 1]) if (day > after && day <= n && day > s) return true;
  // Weekly: the latest weekly day ≤ today that is still more than 3 days before the due date.
  for (let w = s + 7; w <= n && w < d - 3; w += 7) if (w > after) return true;
  return false;
}

/** "due in 3 days", "due tomorrow", "due today", "overdue by 2 days". */
export function dueLabel(due: Date, now: Date, timeZone: string): string {
  const left = dayNumber(localDate(due, timeZone)) - dayNumber(localDate(now, timeZone));
  if (left > 1) return `due in ${left} days`;
  if (left === 1) return 'due tomorrow';
  if (left === 0) return 'due today';
  return `overdue by ${-left} day${left === -1 ? '' : 's'}`;
}

/** Due date as the reader of the org sees it, e.g. 2026-04-15. */
export const dueDateKey = (due: Date, timeZone: string) => dateKey(localDate(due, timeZone));

// ---- Quarterly start ---------------------------------------------------------------------------

/** The quarter containing `now` in the org zone: key ("2026-Q2") and start (local midnight, DST-safe). */
export function quarterOf(now: Date, timeZone: string): { key: string; start: Date } {
  const p = periodOf('quarter', now, timeZone);
  return { key: p.key, start: p.start };
}

export function isQuarterStartDay(now: Date, timeZone: string): boolean {
  const d = localDate(now, timeZone);
  return d.day === 1 && (d.month - 1) % 3 === 0;
}

/** The slot of the automatic campaign to start now, or null (already run, or org newer than the quarter). */
export function quarterCampaignDue(now: Date, timeZone: string, orgCreatedAt: Date, lastSlot: string | null): string | null {
  const q = quarterOf(now, timeZone);
  if (lastSlot === q.key || orgCreatedAt.getTime() > q.start.getTime()) return null;
  return q.key;
}

// ---- Progress and report -----------------------------------------------------------------------

export interface ProjectProgress {
  projectId: string;
  projectName: string;
  reviewers: string[];
  total: number;
  flagged: number;
  kept: number;
  revoked: number;
  open: number;
}

export interface ReviewerProgress {
  userId: string;
  projects: number;
  decided: number;
  /** Undecided items in the projects they review. */
  open: number;
}

export function reviewProgress(items: readonly ReviewItem[], reviewers: ReadonlyMap<string, readonly string[]>) {
  const projects = new Map<string, ProjectProgress>();
  for (const i of items) {
    let p = projects.get(i.projectId);
    if (!p) {
      p = { projectId: i.projectId, projectName: i.projectName, reviewers: [...(reviewers.get(i.projectId) ?? [])], total: 0, flagged: 0, kept: 0, revoked: 0, open: 0 };
      projects.set(i.projectId, p);
    }
    p.total++;
    if (i.flags.length) p.flagged++;
    if (i.decision === 'keep') p.kept++;
    else if (i.decision === 'revoke') p.revoked++;
    else p.open++;
  }
  const people = new Map<string, ReviewerProgress>();
  const person = (userId: string) => {
    let r = people.get(userId);
    if (!r) people.set(userId, (r = { userId, projects: 0, decided: 0, open: 0 }));
    return r;
  };
  for (const p of projects.values()) {
    for (const id of p.reviewers) {
      const r = person(id);
      r.projects++;
      r.open += p.open;
    }
  }
  for (const i of items) if (i.decidedBy && !i.auto) person(i.decidedBy).decided++;
  const list = [...projects.values()].sort((a, b) => a.projectName.localeCompare(b.projectName));
  return {
    projects: list,
    reviewers: [...people.values()].sort((a, b) => b.open - a.open || a.userId.localeCompare(b.userId)),
    total: items.length,
    decided: items.filter((i) => i.decision).length,
  };
}

/**
 * What `/keyward review status` may show a viewer: everything to org admins; to project Admins the
 * items of their own projects only; nothing to anyone else (null), so outsiders learn no project.
 */
export function itemsVisibleTo(items: readonly ReviewItem[], viewer: { orgAdmin: boolean; adminOf: readonly string[] }): ReviewItem[] | null {
  if (viewer.orgAdmin) return [...items];
  if (viewer.adminOf.length === 0) return null;
  return items.filter((i) => viewer.adminOf.includes(i.projectId));
}

/** RFC 4180 field; a leading = + - @ (or tab/CR) is prefixed with ' so spreadsheets never run it. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = [
  'campaign', 'project', 'kind', 'subject', 'owner', 'role_or_key_name', 'environment', 'flags',
  'last_activity', 'decision', 'decided_by', 'decided_at', 'decided_at_close',
] as const;

/** The auditor's report: every item, its decision, decider and time (UTC ISO). CRLF line ends. */
export function reviewCsv(campaign: Campaign, items: readonly ReviewItem[]): string {
  const rows = [...items]
    .sort((a, b) => a.projectName.localeCompare(b.projectName) || a.kind.localeCompare(b.kind) || a.subjectId.localeCompare(b.subjectId))
    .map((i) => [
      campaign.id, i.projectName, i.kind, i.subjectId, i.ownerId, i.label, i.environment, i.flags.join(' '),
      i.lastActivityAt, i.decision ?? 'unreviewed', i.decidedBy, i.decidedAt, i.auto ? 'yes' : 'no',
    ]);
  return [CSV_COLUMNS as readonly unknown[], ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
