import type { TokenUsage } from './pricing.js';

export const emptyUsage = (): TokenUsage => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, webSearches: 0 });

interface ApiUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  server_tool_use?: { web_search_requests?: number | null } | null;
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
  const split = u.cache_creation;
  if (split?.ephemeral_1h_input_tokens != null) into.cacheWrite1h = count(split.ephemeral_1h_input_tokens);
  // The total includes both; should it be missing or short, the split still counts (rounding up).
  if (split) into.cacheWrite = Math.max(into.cacheWrite, count(split.ephemeral_5m_input_tokens) + into.cacheWrite1h);
  if (u.server_tool_use?.web_search_requests != null) into.webSearches = count(u.server_tool_use.web_search_requests);
  return into;
}

/** What a stream showed before it ended without its final usage (counted by the SSE tracker). */
export interface StreamTally {
  /** `message_start` arrived: the reported usage holds the input and cache counts. */
  sawStart: boolean;
  /** Output tokens estimated from the content deltas passed on to the client (rounded up). */
  output: number;
  /** Input tokens estimated from results of tools run upstream (search results, fetched pages). */
  toolInput: number;
  /** Web searches started in the stream. */
  webSearches: number;
}

/** What admission reserved for a messages request: the basis for charging what keyward never saw. */
export interface Reserved {
  input: number;
  maxTokens: number;
  webSearches: number;
}

/**
 * The usage a messages request is charged. `final` is true when the answer's final usage was read
 * (a JSON body to its end, a stream's `message_delta`, an error answer, or no request reached the
 * upstream); then it is charged as reported. Otherwise the upstream may have billed more than it
 * reported, so keyward rounds up:
 * - a stream (or a stream request that got no answer): input and cache from `message_start`, else
 *   the reserved input; plus tool results streamed; output the larger of the reported count and the
 *   count from the deltas, the latter at most `max_tokens`; searches the larger of reported and started;
 * - a non-stream request whose answer was cut off or never came: the upstream answers JSON only when
 *   the whole message is done, so it is charged as the reservation (input, `max_tokens`, searches).
 */
export function billableUsage(
  answer: { usage: TokenUsage; final: boolean; tally: StreamTally | null }, streamRequested: boolean, reserved: Reserved,
): TokenUsage {
  const u = answer.usage;
  if (answer.final) return u;
  const t = answer.tally;
  if (!t && !streamRequested) {
    return {
      ...u, input: Math.max(u.input, reserved.input), output: Math.max(u.output, reserved.maxTokens),
      webSearches: Math.max(u.webSearches, reserved.webSearches),
    };
  }
  const streamed = t?.output ?? 0;
  return {
    ...u,
    input: t?.sawStart ? u.input + t.toolInput : Math.max(u.input, reserved.input),
    output: Math.max(u.output, reserved.maxTokens > 0 ? Math.min(streamed, reserved.maxTokens) : streamed),
    webSearches: Math.max(u.webSearches, t?.webSearches ?? 0),
  };
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
