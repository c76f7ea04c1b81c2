/**
 * Key requests that need approval: the policy and the request state machine. Pure: data in, data out.
 *
 * Who needs approval (decided here, documented in the README):
 * - Only project Developers are subject to the policy. Project Admins and org admins are the
 *   approvers themselves: making them ask a peer would deadlock single-admin projects and add no
 *   control (they could change the policy anyway). Viewers cannot create keys at all.
 * - `none`: nobody needs approval; `prod` (default): keys that can reach production need it, i.e.
 *   environment `prod` or scope `full` (a `full` key works for every purpose whatever its label, so
 *   the environment alone would be a label a Developer picks freely); `always`: every key.
 *
 * Who decides: project Admins and org admins, never the requester. Who is asked (DM): the project's
 * Admins other than the requester; when there are none, the org admins other than the requester.
 */
import { echo, invalid, type ErrorCode, DomainError } from './errors.js';
import { HOUR } from './durations.js';
import type { Environment, Scope } from './keys.js';
import type { ApprovalPolicy } from './projects.js';
import { newId } from './random.js';
import type { Role } from './roles.js';

export const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const DEFAULT_REQUEST_TTL_MS = 24 * HOUR;
/** Bounds for the configurable request lifetime: at least an hour, at most a week. */
export const MIN_REQUEST_TTL_MS = HOUR;
export const MAX_REQUEST_TTL_MS = 7 * 24 * HOUR;
export const MAX_REASON = 500;

export interface Requester {
  orgAdmin: boolean;
  role: Role | null;
}

export interface ApprovalRequest {
  id: string;
  orgId: string;
  projectId: string;
  projectName: string;
  requesterId: string;
  /** What the key will be once approved. */
  keyName: string;
  scope: Scope;
  environment: Environment;
  keyExpiresInMs: number | null;
  rpm: number | null;
  reason: string;
  status: RequestStatus;
  createdAt: Date;
  /** The request (not the key) expires unless decided by then. */
  expiresAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  /** Approver's note or the deny reason. */
  decisionNote: string | null;
  /** The key minted on approval. */
  keyId: string | null;
}

/** A transition either yields the next state or refuses with a message the user sees as is. */
export type Transition =
  | { ok: true; request: ApprovalRequest }
  | {
      ok: false;
      code: ErrorCode;
      message: string;
      /** Set when the refusal discovered a lapsed request: the caller persists this expired state. */
      request?: ApprovalRequest;
    };

/** Unwraps a transition for callers that prefer exceptions. */
export function orThrow(t: Transition): ApprovalRequest {
  if (t.ok) return t.request;
  throw new DomainError(t.code, t.message);
}

/** What the `prod` policy covers: the prod environment and the `full` scope. */
export const coveredByProdPolicy = (environment: Environment, scope: Scope) => environment === 'prod' || scope === 'full';

export function needsApproval(policy: ApprovalPolicy, key: { environment: Environment; scope: Scope }, requester: Requester): boolean {
  if (requester.orgAdmin || requester.role === 'admin') return false;
  if (policy === 'always') return true;
  if (policy === 'prod') return coveredByProdPolicy(key.environment, key.scope);
  return false;
}

/** Why a request is needed, for the "pending" answer to the requester. */
export function approvalReason(policy: ApprovalPolicy, projectName: string): string {
  return policy === 'always'
    ? `Every key in ${projectName} needs approval by a project Admin.`
    : `prod keys and full-scope keys in ${projectName} need approval by a project Admin.`;
}

export function parsePolicy(raw: string): ApprovalPolicy {
  const value = raw.trim().toLowerCase().replace(/^approval=/, '');
  if (value === 'none' || value === 'prod' || value === 'always') return value;
  throw invalid(`Unknown approval policy "${echo(raw)}". Use approval=none, approval=prod or approval=always.`);
}

/** Configured request lifetime (e.g. KEYWARD_APPROVAL_TTL_HOURS × HOUR), bounded. */
export function requestTtl(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_REQUEST_TTL_MS;
  if (!Number.isFinite(ms) || ms < MIN_REQUEST_TTL_MS || ms > MAX_REQUEST_TTL_MS) {
    throw invalid('Approval requests expire after 1 to 168 hours.');
  }
  return ms;
}

export function parseReason(raw: string | null | undefined, what = 'reason'): string {
  const text = (raw ?? '').trim();
  if (text.length > MAX_REASON) throw invalid(`The ${what} is at most ${MAX_REASON} characters (got ${text.length}).`);
  return text;
}

export interface NewRequestInput {
  orgId: string;
  projectId: string;
  projectName: string;
  requesterId: string;
  keyName: string;
  scope: Scope;
  environment: Environment;
  keyExpiresInMs?: number | null;
  rpm?: number | null;
  reason?: string | null;
}

export function newRequest(input: NewRequestInput, now: Date, ttlMs = DEFAULT_REQUEST_TTL_MS): ApprovalRequest {
  return {
    id: newId('req'),
    orgId: input.orgId,
    projectId: input.projectId,
    projectName: input.projectName,
    requesterId: input.requesterId,
    keyName: input.keyName,
    scope: input.scope,
    environment: input.environment,
    keyExpiresInMs: input.keyExpiresInMs ?? null,
    rpm: input.rpm ?? null,
    reason: parseReason(input.reason),
    status: 'pending',
    createdAt: now,
    expiresAt: new Date(now.getTime() + requestTtl(ttlMs)),
    decidedBy: null,
    decidedAt: null,
    decisionNote: null,
    keyId: null,
  };
}

/** `<@U123>` for Slack users (plain or `slack:`-prefixed ids); other actors (`cli:alice`) escaped for mrkdwn. */
export function who(id: string): string {
  const user = id.startsWith('slack:') ? id.slice(6) : id;
  if (/^[UW][A-Z0-9]{2,}$/.test(user)) return `<@${user}>`;
  return id.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const isFinal = (r: ApprovalRequest) => r.status !== 'pending';

/** The state at `now`: a pending request past its deadline is expired (lazy expiry). */
export function settle(r: ApprovalRequest, now: Date): ApprovalRequest {
  if (r.status !== 'pending' || now.getTime() < r.expiresAt.getTime()) return r;
  return { ...r, status: 'expired', decidedBy: 'system', decidedAt: r.expiresAt };
}

/** What a later click sees once the request is final. */
export function finalMessage(r: ApprovalRequest): string {
  switch (r.status) {
    case 'approved':
      return `This request was already approved by ${who(r.decidedBy ?? '?')}.`;
    case 'denied':
      return `This request was already denied by ${who(r.decidedBy ?? '?')}.`;
    case 'expired':
      return 'This request expired before anyone decided. The requester can ask again.';
    case 'cancelled':
      return `This request was cancelled by ${who(r.requesterId)}.`;
    default:
      return 'This request is still pending.';
  }
}

/** Common guard: the request must still be pending at `now`. */
function stillPending(r: ApprovalRequest, now: Date): Transition | null {
  const current = settle(r, now);
  if (current.status === 'pending') return null;
  return { ok: false, code: 'conflict', message: finalMessage(current), ...(current !== r ? { request: current } : {}) };
}

export interface Decider {
  /** Slack user id (or actor id such as `cli:alice`). */
  id: string;
  orgAdmin: boolean;
  /** The decider's role in the request's project. */
  role: Role | null;
}

export const canDecide = (d: Decider) => d.orgAdmin || d.role === 'admin';

function decide(r: ApprovalRequest, d: Decider, now: Date, status: 'approved' | 'denied', note: string): Transition {
  const refused = stillPending(r, now);
  if (refused) return refused;
  const verb = status === 'approved' ? 'approve' : 'deny';
  if (d.id === r.requesterId || d.id === `slack:${r.requesterId}`) {
    return { ok: false, code: 'forbidden', message: `You cannot ${verb} your own request: another Admin of ${r.projectName} must decide.` };
  }
  if (!canDecide(d)) {
    return { ok: false, code: 'forbidden', message: `Only Admins of ${r.projectName} or org admins can ${verb} key requests.` };
  }
  return { ok: true, request: { ...r, status, decidedBy: d.id, decidedAt: now, decisionNote: note || null } };
}

export function approve(r: ApprovalRequest, d: Decider, now: Date, note?: string | null): Transition {
  return decide(r, d, now, 'approved', parseReason(note, 'note'));
}

/** A deny needs a reason: the requester deserves to know what to change. */
export function deny(r: ApprovalRequest, d: Decider, now: Date, reason: string | null | undefined): Transition {
  const text = parseReason(reason);
  if (!text) return { ok: false, code: 'invalid', message: 'Say why you deny the request, so the requester knows what to change.' };
  return decide(r, d, now, 'denied', text);
}

export function cancel(r: ApprovalRequest, userId: string, now: Date): Transition {
  const refused = stillPending(r, now);
  if (refused) return refused;
  if (userId !== r.requesterId) return { ok: false, code: 'forbidden', message: 'Only the requester can cancel a request.' };
  return { ok: true, request: { ...r, status: 'cancelled', decidedBy: userId, decidedAt: now } };
}

/** Run by the sweeper: expires a lapsed pending request; refuses anything else. */
export function expire(r: ApprovalRequest, now: Date): Transition {
  if (r.status !== 'pending') return { ok: false, code: 'conflict', message: finalMessage(r) };
  const current = settle(r, now);
  if (current.status !== 'expired') return { ok: false, code: 'conflict', message: 'This request has not expired yet.' };
  return { ok: true, request: current };
}

/** Records the key minted for an approved request (once). */
export function attachKey(r: ApprovalRequest, keyId: string): Transition {
  if (r.status !== 'approved') return { ok: false, code: 'conflict', message: 'Only approved requests get a key.' };
  if (r.keyId && r.keyId !== keyId) return { ok: false, code: 'conflict', message: `This request already produced key ${r.keyId}.` };
  return { ok: true, request: { ...r, keyId } };
}

export interface MemberRef {
  userId: string;
  role: Role;
}

/**
 * Who gets the approval DM: the project's Admins except the requester; when none, the org admins
 * except the requester. Empty = nobody can decide, and the requester must be told so.
 */
export function approverRecipients(requesterId: string, members: readonly MemberRef[], orgAdmins: readonly string[]): string[] {
  const admins = members.filter((m) => m.role === 'admin' && m.userId !== requesterId).map((m) => m.userId);
  if (admins.length) return [...new Set(admins)];
  return [...new Set(orgAdmins.filter((id) => id !== requesterId))];
}

export const NO_APPROVER_MESSAGE =
  'Nobody can approve this request: the project has no other Admin and there is no other org admin. Ask an org admin to add a project Admin.';
