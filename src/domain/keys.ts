import { createHmac, timingSafeEqual } from 'node:crypto';
import { echo, invalid } from './errors.js';
import { newId, randomBase62 } from './random.js';

export const SECRET_PREFIX = 'sk-kw-';
/** 40 base62 characters = 238 bits of entropy (the brief asks for >= 190). */
export const SECRET_RANDOM_LENGTH = 40;
const SECRET_PATTERN = /^sk-kw-[0-9A-Za-z]{32,128}$/;
const KEY_ID_PATTERN = /^key_[0-9A-Za-z]{8,64}$/;
const NAME_PATTERN = /^[\p{L}\p{N} _.-]{1,64}$/u;

export const SCOPES = ['full', 'inference', 'read-only'] as const;
export type Scope = (typeof SCOPES)[number];
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export type KeyStatus = 'active' | 'revoked' | 'expired';

export const newKeyId = () => newId('key');
export const newSecret = () => SECRET_PREFIX + randomBase62(SECRET_RANDOM_LENGTH);

export const looksLikeSecret = (text: string) => SECRET_PATTERN.test(text);
export const isKeyId = (text: string) => KEY_ID_PATTERN.test(text);

/** What is stored instead of the secret: HMAC-SHA256 under KEYWARD_SECRET, hex. */
export function hashSecret(serverSecret: string, secret: string): string {
  return createHmac('sha256', serverSecret).update(secret).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Display form that identifies a secret without revealing it: `sk-kw-…abcd`. */
export const secretHint = (secret: string) => `${SECRET_PREFIX}…${secret.slice(-4)}`;

/** Slack user ids (U…, W…) can receive a secret by DM; CLI owners (`cli:alice`) cannot. */
export const isSlackUserId = (id: string) => /^[UW][A-Z0-9]{2,}$/.test(id);

export function parseKeyName(raw: string): string {
  const name = raw.trim().replace(/\s+/g, ' ');
  if (!name) throw invalid('A key needs a name, e.g. "Production App" or "Local Dev".');
  if (name.length > 64) throw invalid(`Key names are at most 64 characters (got ${name.length}).`);
  if (!NAME_PATTERN.test(name)) {
    throw invalid('Key names may use letters, digits, spaces, "-", "_" and "." only.');
  }
  return name;
}

export function parseScope(raw: string): Scope {
  const scope = raw.trim().toLowerCase().replace('_', '-');
  if ((SCOPES as readonly string[]).includes(scope)) return scope as Scope;
  throw invalid(`Unknown scope "${echo(raw)}". Use one of: ${SCOPES.join(', ')}.`);
}

export function parseEnvironment(raw: string): Environment {
  const env = raw.trim().toLowerCase();
  const aliases: Record<string, Environment> = { development: 'dev', production: 'prod', stage: 'staging' };
  const value = aliases[env] ?? env;
  if ((ENVIRONMENTS as readonly string[]).includes(value)) return value as Environment;
  throw invalid(`Unknown environment "${echo(raw)}". Use one of: ${ENVIRONMENTS.join(', ')}.`);
}

/** Scope as stored (Prisma enum names cannot contain "-"). */
export const scopeToDb = (scope: Scope) => (scope === 'read-only' ? 'read_only' : scope);
export const scopeFromDb = (scope: string): Scope => (scope === 'read_only' ? 'read-only' : (scope as Scope));

/** What a key may call at the gateway. */
export type GatewayCapability = 'messages' | 'count_tokens' | 'models' | 'usage';
const SCOPE_CAPABILITIES: Record<Scope, readonly GatewayCapability[]> = {
  full: ['messages', 'count_tokens', 'models', 'usage'],
  inference: ['messages', 'count_tokens', 'models'],
  'read-only': ['usage', 'models'],
};
export const scopeAllows = (scope: Scope, capability: GatewayCapability) =>
  SCOPE_CAPABILITIES[scope].includes(capability);
/** The narrowest scopes that allow a capability, for "needs scope X" messages. */
export const scopesAllowing = (capability: GatewayCapability) =>
  SCOPES.filter((s) => scopeAllows(s, capability));

/** Whether a stored key accepts requests at `now` (status, expiry). Rotation grace is checked by the caller. */
export function keyUsable(key: { status: KeyStatus; expiresAt: Date | null }, now: Date): boolean {
  if (key.status !== 'active') return false;
  return !key.expiresAt || key.expiresAt.getTime() > now.getTime();
}
