import type { TokenUsage } from './pricing.js';

export const emptyUsage = (): TokenUsage => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0 });

interface ApiUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_creation?: { ephemeral_1h_input_tokens?: number | null } | null;
}

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/**
 * Applies an Anthropic `usage` object to `into`. Counts in `message_delta` are cumulative, so a
 * field that is present replaces the earlier value and an absent one keeps it.
 */
export function applyUsage(into: TokenUsage, raw: unknown): TokenUsage {
  if (!raw || typeof raw !== 'object') return into;
  const u = raw as ApiUsage;
  if (u.input_tokens != null) into.input = count(u.input_tokens);
  if (u.output_tokens != null) into.output = count(u.output_tokens);
  if (u.cache_read_input_tokens != null) into.cacheRead = count(u.cache_read_input_tokens);
  if (u.cache_creation_input_tokens != null) into.cacheWrite = count(u.cache_creation_input_tokens);
  if (u.cache_creation?.ephemeral_1h_input_tokens != null) into.cacheWrite1h = count(u.cache_creation.ephemeral_1h_input_tokens);
  return into;
}

/** Why a request did not succeed, as stored on usage events and in metrics. */
export type ErrorClass =
  | 'authentication' | 'permission' | 'rate_limit' | 'spend_limit' | 'invalid_request' | 'too_large'
  | 'not_found' | 'upstream_4xx' | 'upstream_5xx' | 'upstream_unreachable' | 'timeout' | 'client_closed'
  | 'stream_error' | 'shutting_down'
  // 401s of a known key: revoked or expired (status); past its expiry or, for a rotated-out secret, the grace end.
  | 'key_inactive' | 'key_expired';

export function errorClassForUpstream(status: number): ErrorClass | null {
  if (status < 400) return null;
  if (status === 401) return 'authentication';
  if (status === 403) return 'permission';
  if (status === 429) return 'rate_limit';
  if (status === 413) return 'too_large';
  if (status === 404) return 'not_found';
  if (status >= 500) return 'upstream_5xx';
  return 'upstream_4xx';
}

export const totalTokens = (u: { input: number; output: number; cacheRead: number; cacheWrite: number }) =>
  u.input + u.output + u.cacheRead + u.cacheWrite;
