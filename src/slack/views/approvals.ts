/** Key-request approval messages and modals. Pure: request in, Block Kit out. */
import { who, type ApprovalRequest } from '../../domain/approvals.js';
import { DAY } from '../../domain/durations.js';
import { context, esc, fitMessage, header, inline, plain, quoted, section, slackDate, truncate, type Block, type Message, type ModalView } from './common.js';
import { packLines } from './projects.js';
import { totpInput } from './twofactor.js';

export const APPROVE_ACTION = 'approval.approve';
export const DENY_ACTION = 'approval.deny';
export const CANCEL_ACTION = 'approval.cancel';
export const APPROVE_CALLBACK = 'approval.approve_modal';
export const DENY_CALLBACK = 'approval.deny_modal';
/** Input block ids the submission handlers read (`view.state.values[block].value`). */
export const NOTE_BLOCK = 'note';
export const REASON_BLOCK = 'reason';

const keyExpiry = (ms: number | null) => (ms ? `after ${Math.round(ms / DAY)} days` : 'never');

/** The request as every approver sees it. */
function details(r: ApprovalRequest): Block[] {
  // The requester's words go in a quote block: they cannot add lines that pass for the fields above.
  const reason = r.reason?.trim() ? `\n${quoted(r.reason)}` : ' _(no reason given)_';
  return [
    header(`Key request: ${r.keyName}`),
    section(
      `${who(r.requesterId)} asks for a *${r.environment}* key in *${r.projectName}*\n` +
        `*Name:* ${esc(r.keyName)}   *Scope:* ${r.scope}   *Environment:* ${r.environment}\n` +
        `*Key expires:* ${keyExpiry(r.keyExpiresInMs)}${r.rpm ? `   *Rate:* ${r.rpm}/min` : ''}\n` +
        `*Reason:*${reason}`,
    ),
  ];
}

/** Notification text (mrkdwn too, so user text is escaped). */
const summary = (r: ApprovalRequest) =>
  `${who(r.requesterId)} asks for a ${r.environment} key "${esc(r.keyName)}" (${r.scope}) in ${r.projectName}`;

/** What a decided, expired or cancelled request shows instead of the buttons. */
export function outcomeLine(r: ApprovalRequest): string {
  const at = slackDate(r.decidedAt);
  switch (r.status) {
    case 'approved':
      return `:white_check_mark: *Approved* by ${who(r.decidedBy ?? '?')} ${at}${r.decisionNote ? ` — “${inline(r.decisionNote)}”` : ''}${r.keyId ? ` · key \`${r.keyId}\`` : ''}`;
    case 'denied':
      return `:no_entry: *Denied* by ${who(r.decidedBy ?? '?')} ${at}: “${inline(r.decisionNote ?? '')}”`;
    case 'expired':
      return `:hourglass: *Expired* ${slackDate(r.expiresAt)}: nobody decided in time.`;
    case 'cancelled':
      return `:heavy_multiplication_x: *Cancelled* by ${who(r.requesterId)} ${at}.`;
    default:
      return `Pending — expires ${slackDate(r.expiresAt)}.`;
  }
}

/**
 * The approver DM. While pending it carries Approve / Deny (value = request id); once final the
 * same function renders the outcome instead, for `chat.update` of every approver's copy.
 */
export function approverMessage(r: ApprovalRequest): Message {
  if (r.status !== 'pending') {
    return fitMessage(`${summary(r)}: ${r.status}`, [...details(r), section(outcomeLine(r))]);
  }
  return fitMessage(`Approval needed: ${summary(r)}`, [
    ...details(r),
    context(`Request \`${r.id}\` · expires ${slackDate(r.expiresAt)} unless someone decides.`),
    {
      type: 'actions',
      block_id: `approval:${r.id}`,
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: plain('Approve'), value: r.id },
        { type: 'button', action_id: DENY_ACTION, style: 'danger', text: plain('Deny'), value: r.id },
      ],
    },
  ]);
}

/** Told to the requester right after asking. */
export function requestPendingMessage(r: ApprovalRequest, approvers: readonly string[], why: string): Message {
  const asked = approvers.slice(0, 10).map(who).join(', ') + (approvers.length > 10 ? ` and ${approvers.length - 10} more` : '');
  return fitMessage(`Your key request for "${r.keyName}" in ${r.projectName} is pending approval.`, [
    section(`:hourglass_flowing_sand: ${esc(why)} Your request for *${esc(r.keyName)}* (${r.scope}, ${r.environment}) is pending.\nAsked: ${asked}. It expires ${slackDate(r.expiresAt)}.`),
    {
      type: 'actions',
      block_id: `approval_cancel:${r.id}`,
      elements: [{ type: 'button', action_id: CANCEL_ACTION, text: plain('Cancel request'), value: r.id }],
    },
  ]);
}

/** Told to the requester when the request becomes final. */
export function requestOutcomeMessage(r: ApprovalRequest): Message {
  const name = `*${esc(r.keyName)}* in *${r.projectName}*`;
  const by = who(r.decidedBy ?? '?');
  const note = r.decisionNote ? `: “${inline(r.decisionNote)}”` : '.';
  const text: Record<ApprovalRequest['status'], [string, string]> = {
    pending: ['', `Your request for ${name} is still pending.`],
    approved: [':white_check_mark: ', `${by} approved your request for ${name}${note} The key comes in the next message.`],
    denied: [':no_entry: ', `${by} denied your request for ${name}${note}`],
    expired: [':hourglass: ', `Your request for ${name} expired: nobody decided in time. Ask again with \`/keys create\`.`],
    cancelled: ['', `You cancelled your request for ${name}.`],
  };
  const [icon, line] = text[r.status];
  return { text: truncate(line.replace(/\*/g, ''), 3000), blocks: [section(icon + line)] };
}

/**
 * An approval whose key could not be created: nothing was approved. The approver (modal) and the
 * requester (DM) are told why; the request stays pending, so it can be approved again or cancelled.
 */
export function approvalFailed(r: ApprovalRequest, failure: string, approverId: string): { approver: string; requester: Message } {
  const name = `*${esc(r.keyName)}* in *${r.projectName}*`;
  const approver = `The key could not be created, so nothing was approved: ${failure}\nThe request stays pending: approve it again once that is fixed, or let ${who(r.requesterId)} cancel it and ask again.`;
  const line =
    `:warning: ${who(approverId)} tried to approve your request for ${name}, but the key could not be created: ${failure}\n` +
    'Your request is still pending: an Admin can approve it again once that is fixed, or cancel it and ask again (for example with another name) with `/keys create`.';
  return { approver, requester: { text: truncate(line.replace(/\*/g, ''), 3000), blocks: [section(line)] } };
}

/** Approve modal: optional note, and the TOTP field when the approver must step up. */
export function approveModal(r: ApprovalRequest, opts: { needsCode: boolean }): ModalView {
  const blocks: Block[] = [
    section(`Approve *${esc(r.keyName)}* (${r.scope}, ${r.environment}) in *${r.projectName}* for ${who(r.requesterId)}? The key is created and sent to them at once.`),
    {
      type: 'input',
      block_id: NOTE_BLOCK,
      optional: true,
      label: plain('Note to the requester (optional)'),
      element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 500 },
    },
  ];
  if (opts.needsCode) blocks.push(totpInput());
  return {
    type: 'modal',
    callback_id: APPROVE_CALLBACK,
    private_metadata: r.id,
    title: plain('Approve request', 24),
    submit: plain('Approve', 24),
    close: plain('Cancel', 24),
    blocks,
  };
}

/** Deny modal: a reason is required (the requester is told it). */
export function denyModal(r: ApprovalRequest): ModalView {
  return {
    type: 'modal',
    callback_id: DENY_CALLBACK,
    private_metadata: r.id,
    title: plain('Deny request', 24),
    submit: plain('Deny', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(`Deny *${esc(r.keyName)}* (${r.scope}, ${r.environment}) in *${r.projectName}* for ${who(r.requesterId)}?`),
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: plain('Reason (sent to the requester)'),
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, min_length: 1, max_length: 500 },
      },
    ],
  };
}

/** Whole messages above ~13k characters fail (msg_blocks_too_long): keep packed text under this. */
export const MESSAGE_TEXT_BUDGET = 9000;

/** packLines, also bounded by a total character budget. */
export function packWithin(lines: readonly string[], maxBlocks: number, budget = MESSAGE_TEXT_BUDGET) {
  let used = 0;
  let n = 0;
  while (n < lines.length && used + Math.min(lines[n]!.length, 2900) + 1 <= budget) used += Math.min(lines[n++]!.length, 2900) + 1;
  return packLines(lines.slice(0, n), maxBlocks);
}

/** `/keys requests`: pending requests, summarised to fit one message. */
export function requestList(requests: readonly ApprovalRequest[]): Message {
  if (!requests.length) return { text: 'No pending key requests.', blocks: [section('No pending key requests.')] };
  const lines = requests.map(
    (r) => `• \`${r.id}\` ${who(r.requesterId)} → *${esc(r.keyName)}* · ${r.projectName} · ${r.scope} · ${r.environment} · expires ${slackDate(r.expiresAt)}`,
  );
  const { blocks, shown } = packWithin(lines, 45);
  const out: Block[] = [header(`Pending key requests (${requests.length})`), ...blocks];
  if (shown < requests.length) out.push(context(`…and ${requests.length - shown} more not shown.`));
  return fitMessage(`Pending key requests: ${requests.length}`, out);
}

/** App Home section: pending requests the reader can decide or made (empty when none). */
export function homeRequestBlocks(requests: readonly ApprovalRequest[], maxBlocks: number): Block[] {
  if (!requests.length || maxBlocks < 3) return [];
  const list = requestList(requests).blocks!.slice(1);
  const room = Math.min(list.length, maxBlocks - 2);
  return [{ type: 'divider' }, header(`Pending key requests (${requests.length})`), ...list.slice(0, room)];
}
