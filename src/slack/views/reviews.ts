/** Access-review DMs, reminders, status and report. Pure: campaign data in, Block Kit out. */
import { who } from '../../domain/approvals.js';
import { dueDateKey, dueLabel, FLAG_LABELS, reviewProgress, type Campaign, type ReviewItem } from '../../domain/reviews.js';
import { roleLabel, type Role } from '../../domain/roles.js';
import { context, esc, fitMessage, header, plain, section, slackDate, type Block, type Message, type ModalView } from './common.js';
import { totpInput } from './twofactor.js';
import { packWithin } from './approvals.js';

export const KEEP_ACTION = 'review.keep';
export const REVOKE_ACTION = 'review.revoke';
export const KEEP_ALL_ACTION = 'review.keep_all';
/** Revoke by a reviewer who must step up: the button opens this modal instead of acting at once. */
export const REVOKE_CALLBACK = 'review.revoke_modal';
/**
 * Undecided items with buttons per message (2 blocks each), also bounded by size (~13k characters
 * per message is Slack's practical ceiling); the rest appear as decisions come in.
 */
export const ITEMS_PER_MESSAGE = 20;
const ITEMS_JSON_BUDGET = 8500;

export type Progress = ReturnType<typeof reviewProgress>;

/** One line describing an item (no decision). */
export function itemLine(i: ReviewItem): string {
  const flags = i.flags.length ? ` · :warning: ${i.flags.map((f) => FLAG_LABELS[f]).join(', ')}` : '';
  if (i.kind === 'membership') {
    return `*Member* ${who(i.subjectId)} · ${roleLabel(i.label as Role)} · last active ${slackDate(i.lastActivityAt)}${flags}`;
  }
  return `*Key* \`${i.subjectId}\` ${esc(i.label)} · ${i.environment ?? ''} · owner ${who(i.ownerId)} · last used ${slackDate(i.lastActivityAt)}${flags}`;
}

function decisionLine(i: ReviewItem): string {
  const icon = i.decision === 'revoke' ? ':x: Revoked' : ':white_check_mark: Kept';
  const by = i.auto ? 'at close' : `by ${who(i.decidedBy ?? '?')}`;
  return `${icon} ${by} — ${itemLine(i)}`;
}

/** Flagged first, then memberships before keys, stable otherwise. */
const order = (a: ReviewItem, b: ReviewItem) =>
  Number(b.flags.length > 0) - Number(a.flags.length > 0) || (a.kind === b.kind ? 0 : a.kind === 'membership' ? -1 : 1);

export interface ReviewDm {
  campaign: Campaign;
  projectId: string;
  projectName: string;
  items: readonly ReviewItem[];
  /** The DM's reader: their own access gets no Keep button (nobody keeps their own). */
  reviewerId: string;
  now: Date;
  timeZone: string;
}

/**
 * The per-project review DM. Re-rendered (`chat.update`) after each decision, so the next
 * undecided items move up; always ≤ 50 blocks.
 */
export function reviewMessage(d: ReviewDm): Message {
  const open = [...d.items].filter((i) => !i.decision).sort(order);
  const decided = d.items.filter((i) => i.decision);
  const due = `${dueLabel(d.campaign.dueAt, d.now, d.timeZone)} (${dueDateKey(d.campaign.dueAt, d.timeZone)})`;
  const closed = d.campaign.status === 'closed';
  const blocks: Block[] = [
    header(`Access review: ${d.projectName}`),
    context(closed
      ? `Closed by ${who(d.campaign.closedBy ?? '?')} ${slackDate(d.campaign.closedAt)}.`
      : `Keep or revoke each membership and key · ${open.length} of ${d.items.length} open · ${due}. Revoke acts at once (a member's keys in the project go with them); any Revoke wins.`),
  ];
  if (!closed) {
    let size = 0;
    let shown = 0;
    for (const i of open.slice(0, ITEMS_PER_MESSAGE)) {
      const own = i.ownerId === d.reviewerId;
      const pair: Block[] = [section(itemLine(i) + (own ? '\n_Your own access: another reviewer decides Keep._' : ''))];
      pair.push({
        type: 'actions',
        block_id: `review:${i.id}`,
        elements: [
          ...(own ? [] : [{ type: 'button' as const, action_id: KEEP_ACTION, text: plain('Keep'), value: i.id }]),
          {
            type: 'button' as const,
            action_id: REVOKE_ACTION,
            style: 'danger' as const,
            text: plain('Revoke'),
            value: i.id,
            confirm: {
              title: plain('Revoke now?', 100),
              text: plain(i.kind === 'key' ? `Key ${i.subjectId} stops working within seconds.` : 'The member leaves the project at once.', 300),
              confirm: plain('Revoke', 30),
              deny: plain('Back', 30),
              style: 'danger' as const,
            },
          },
        ],
      });
      size += JSON.stringify(pair).length;
      if (shown > 0 && size > ITEMS_JSON_BUDGET) break;
      blocks.push(...pair);
      shown++;
    }
    if (open.length > shown) blocks.push(context(`…${open.length - shown} more open items appear here as you decide.`));
  }
  if (decided.length) {
    const { blocks: lines, shown } = packWithin(decided.map(decisionLine), 2, 2000);
    blocks.push(...lines);
    if (shown < decided.length) blocks.push(context(`…and ${decided.length - shown} more decided items (see \`/keyward review status\`).`));
  }
  if (!closed && open.some((i) => i.ownerId !== d.reviewerId)) {
    blocks.push({
      type: 'actions',
      block_id: `review_all:${d.projectId}`,
      elements: [{
        type: 'button',
        action_id: KEEP_ALL_ACTION,
        text: plain('Keep all remaining'),
        value: JSON.stringify({ c: d.campaign.id, p: d.projectId }),
        confirm: {
          title: plain('Keep all remaining?', 100),
          text: plain(`Keep every open item in ${d.projectName} except your own access.`, 300),
          confirm: plain('Keep all', 30),
          deny: plain('Back', 30),
        },
      }],
    });
  }
  const text = closed
    ? `Access review for ${d.projectName} is closed.`
    : `Access review for ${d.projectName}: ${open.length} of ${d.items.length} items open, ${due}.`;
  return fitMessage(text, blocks);
}

export function reviewReminderMessage(c: Campaign, projectName: string, open: number, now: Date, timeZone: string): Message {
  const line = `Reminder: the access review for *${projectName}* is ${dueLabel(c.dueAt, now, timeZone)} (${dueDateKey(c.dueAt, timeZone)}): ${open} item${open === 1 ? '' : 's'} still open.`;
  return { text: line.replace(/\*/g, ''), blocks: [section(`:alarm_clock: ${line}`)] };
}

/** `/keyward review status` and the admins' channel summary: per project, then per reviewer. */
export function reviewStatusMessage(c: Campaign, p: Progress, now: Date, timeZone: string): Message {
  const state = c.status === 'closed'
    ? `closed ${slackDate(c.closedAt)} by ${who(c.closedBy ?? '?')} (unreviewed: ${c.unreviewed})`
    : `${dueLabel(c.dueAt, now, timeZone)} (${dueDateKey(c.dueAt, timeZone)})`;
  const projects = p.projects.map((x) =>
    `• *${x.projectName}* · ${x.total - x.open}/${x.total} decided · ${x.revoked} revoked · ${x.flagged} flagged · reviewers ${x.reviewers.map(who).join(', ') || '—'}`);
  const people = p.reviewers.map((r) => `• ${who(r.userId)} · ${r.open} open in ${r.projects} project${r.projects === 1 ? '' : 's'} · ${r.decided} decided`);
  const a = packWithin(projects, 20, 5500);
  const b = packWithin(people, 20, 4000);
  const blocks: Block[] = [
    header('Access review status'),
    section(`Review \`${c.id}\` started ${slackDate(c.startedAt)} · ${state}\n*${p.decided} of ${p.total}* items decided.`),
    ...a.blocks,
  ];
  if (a.shown < projects.length) blocks.push(context(`…and ${projects.length - a.shown} more projects.`));
  if (people.length) blocks.push(section('*Reviewers*'), ...b.blocks);
  if (b.shown < people.length) blocks.push(context(`…and ${people.length - b.shown} more reviewers.`));
  return fitMessage(`Access review: ${p.decided} of ${p.total} items decided, ${state.replace(/<[^|>]*\|([^>]*)>/g, '$1')}.`, blocks);
}

/** Posted on close, with the CSV uploaded alongside. */
export function reviewClosedMessage(c: Campaign, p: Progress, revokedAtClose: number): Message {
  const revoked = p.projects.reduce((n, x) => n + x.revoked, 0);
  const line = `The access review \`${c.id}\` was closed by ${who(c.closedBy ?? '?')}: ${p.total} items, ${revoked} revoked` +
    ` (${revokedAtClose} unreviewed revoked at close), ${p.total - revoked} kept. Unreviewed items: *${c.unreviewed}*. The CSV report is attached.`;
  return { text: line.replace(/[*`]/g, ''), blocks: [header('Access review closed'), section(line)] };
}

/** Step-up before a review Revoke (reviewer enrolled in 2FA, or 2FA required): metadata = item id. */
export function revokeStepUpModal(i: ReviewItem): ModalView {
  return {
    type: 'modal',
    callback_id: REVOKE_CALLBACK,
    private_metadata: i.id,
    title: plain('Revoke access', 24),
    submit: plain('Revoke', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(`Revoke in *${i.projectName}*: ${itemLine(i)}`),
      ...(i.kind === 'membership' ? [context('Removing the member also revokes the active keys they own in this project.')] : []),
      totpInput(),
    ],
  };
}
