/**
 * "Why does my key fail?": which key a reference names, the key's condition now, what its scope
 * opens at the gateway, how recorded refusals are counted, and the one thing to do next.
 */
import { invalid, echo } from './errors.js';
import { formatUsd } from './limits.js';
import { isKeyId, keyUsable, scopeAllows, type GatewayCapability, type KeyStatus, type Scope } from './keys.js';

export type KeyRef = { kind: 'id'; id: string } | { kind: 'hint'; last4: string };

const HINT_REF = /^(?:sk-kw-)?(?:…|\.\.\.)?([0-9A-Za-z]{4})$/;

/** `key_…`, or the last 4 characters of a hint (`abcd`, `…abcd`, `sk-kw-…abcd`). Never a whole secret. */
export function parseKeyRef(raw: string): KeyRef {
  const text = raw.trim();
  if (isKeyId(text)) return { kind: 'id', id: text };
  const hint = HINT_REF.exec(text);
  if (hint) return { kind: 'hint', last4: hint[1]! };
  // Anything else that starts like a secret is not echoed back: it may be (part of) one.
  if (/^sk-/i.test(text)) {
    throw invalid('Do not paste secrets: give the key id (`key_…`) or only the last 4 characters of the secret, e.g. `abcd` for sk-kw-…abcd.');
  }
  throw invalid(`"${echo(text)}" is neither a key id (\`key_…\`) nor the last 4 characters of a key's secret (\`abcd\` for sk-kw-…abcd).`);
}

/** The gateway endpoints behind each capability (what a scope opens). */
const CAPABILITY_ENDPOINTS: [GatewayCapability, string[]][] = [
  ['messages', ['POST /v1/messages']],
  ['count_tokens', ['POST /v1/messages/count_tokens']],
  ['models', ['GET /v1/models', 'GET /v1/models/{id}']],
  ['usage', ['GET /v1/usage']],
];
export const endpointsFor = (scope: Scope): string[] =>
  CAPABILITY_ENDPOINTS.filter(([cap]) => scopeAllows(scope, cap)).flatMap(([, paths]) => paths);

export interface KeyFacts {
  status: KeyStatus;
  expiresAt: Date | null;
  graceEndsAt: Date | null;
  prevHint: string | null;
}

/** Status as it stands at `now` (an active key past its expiry is expired), and a live rotation grace. */
export function keyCondition(k: KeyFacts, now: Date): { status: KeyStatus; graceUntil: Date | null } {
  const status: KeyStatus = k.status === 'active' && !keyUsable(k, now) ? 'expired' : k.status;
  const graceUntil = status === 'active' && k.prevHint && k.graceEndsAt && k.graceEndsAt > now ? k.graceEndsAt : null;
  return { status, graceUntil };
}

/** The gateway answers that stop a client, as counted from the usage records. */
export const REFUSAL_KINDS = ['unauthorized', 'forbidden', 'rateLimited', 'spendLimit'] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];
export type RefusalCounts = Record<RefusalKind, number>;
export const REFUSAL_STATUSES = [401, 403, 429] as const;

export function refusalKind(status: number, errorClass: string | null): RefusalKind | null {
  if (errorClass === 'spend_limit') return 'spendLimit';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 429) return 'rateLimited';
  return null;
}

/** A recorded refusal in words, read against the key's status now. */
export function refusalReason(status: number, errorClass: string | null, keyStatus: KeyStatus): string {
  switch (errorClass) {
    case 'key_inactive': return keyStatus === 'expired' ? 'key expired' : 'key revoked';
    case 'key_expired': return keyStatus === 'active' ? 'secret replaced by a rotation (grace over)' : 'key expired';
    case 'permission': return 'scope does not allow the endpoint';
    case 'rate_limit': return 'rate limit';
    case 'spend_limit': return 'hard spend limit';
    case 'authentication': return 'Anthropic refused keyward\'s upstream key';
    default: return errorClass ?? `HTTP ${status}`;
  }
}

export const noRefusals = (): RefusalCounts => ({ unauthorized: 0, forbidden: 0, rateLimited: 0, spendLimit: 0 });

export interface LimitFigures {
  hardMicros: bigint | null;
  spentMicros: bigint;
}

export interface AdviceInput {
  key: { status: KeyStatus; scope: Scope; hint: string; rotatedAt: Date | null };
  graceUntil: Date | null;
  /** The reference named the secret the last rotation replaced. */
  matchedPrevious: boolean;
  lastRefusal: { status: number; errorClass: string | null } | null;
  recentRefusals: number;
  projectName: string;
  limits: { project: LimitFigures; org: LimitFigures | null };
  resetsAt: string;
}

const spent = (l: LimitFigures | null) => l !== null && l.hardMicros !== null && l.spentMicros >= l.hardMicros;

/** One line: what to do about the most likely cause. */
export function keyAdvice(a: AdviceInput): string {
  const { key } = a;
  if (key.status === 'revoked') return 'Revoked keys cannot be restored: create a new key (`/keys create`) and replace the secret where this one is used.';
  if (key.status === 'expired') return 'Expired keys cannot be extended: create a new key (`/keys create`) and replace the secret where this one is used.';
  if (a.matchedPrevious) {
    return a.graceUntil
      ? `That secret was replaced by a rotation and works only until the grace end: switch to the current secret (${key.hint}).`
      : `That secret was replaced by a rotation and no longer works: use the current secret (${key.hint}).`;
  }
  const kind = a.recentRefusals > 0 && a.lastRefusal ? refusalKind(a.lastRefusal.status, a.lastRefusal.errorClass) : null;
  if (kind === 'rateLimited') {
    return `Rate limited: wait for the \`retry-after\` time and send fewer requests per minute, or ask an Admin of ${a.projectName} to raise rpm/itpm/otpm with \`/limits set ${a.projectName}\` (a key's own --rpm is set when it is created).`;
  }
  if (kind === 'spendLimit' || spent(a.limits.project) || spent(a.limits.org)) {
    const projectAdmin = `an Admin of ${a.projectName} (\`/limits set ${a.projectName} hard=…\`)`;
    // Org figures are null for people who are not org admins: then either limit may be the one.
    const who = spent(a.limits.project) ? projectAdmin
      : spent(a.limits.org) ? 'an org admin (`/limits set org hard=…`)'
      : `${projectAdmin} or, for the organisation's limit, an org admin`;
    return `The monthly hard limit is reached: requests pass again after ${a.resetsAt}, or ask ${who} to raise it.`;
  }
  if (kind === 'forbidden') {
    return `Scope \`${key.scope}\` does not open the endpoint the client called: use a key whose scope allows it (see the endpoints above).`;
  }
  // An active key refused as expired: the client sends the secret a rotation replaced.
  if (a.lastRefusal?.errorClass === 'key_expired') {
    return `A client still sends a secret this key's rotation replaced: switch it to the current secret (${key.hint}).`;
  }
  if (kind === 'unauthorized') {
    return 'Anthropic refused keyward\'s own upstream key (401 passed through): tell an org admin to check ANTHROPIC_API_KEY.';
  }
  if (a.graceUntil) return `The previous secret stops working at the grace end: move every client to the current secret (${key.hint}).`;
  return `No refusals recorded for this key. A client answered 401 "invalid x-api-key" is not sending this key's secret (${key.hint}): keyward cannot tell which key an unknown secret was meant to be.`;
}

/** "$12.50 of $100.00 (12 %)" for a limit; "no hard limit" without one. */
export function spendLine(l: LimitFigures): string {
  if (l.hardMicros === null) return `${formatUsd(l.spentMicros)} spent, no hard limit`;
  const pct = l.hardMicros === 0n ? 100 : Math.floor(Number((l.spentMicros * 100n) / l.hardMicros));
  return `${formatUsd(l.spentMicros)} of ${formatUsd(l.hardMicros)} (${pct} %)`;
}
