/**
 * Anthropic model ids are short and plain (`claude-sonnet-4-5`, `claude-3-5-haiku-20241022`,
 * `claude-opus-4-1@20250805` on some clouds). Anything else is refused before it reaches the
 * upstream path, the logs or the usage tables (a NUL byte aborts a PostgreSQL transaction).
 */
const MODEL_ID = /^[a-zA-Z0-9][a-zA-Z0-9._:@-]{0,99}$/;

export const isModelId = (value: unknown): value is string => typeof value === 'string' && MODEL_ID.test(value);

/** Why a `model` field is refused, in the words an API client should see; null when it is fine. */
export function modelIdProblem(value: unknown): string | null {
  if (value === undefined || value === null) return 'model: Field required';
  if (typeof value !== 'string') return 'model: Input should be a valid string';
  if (!MODEL_ID.test(value)) {
    return 'model: must be a model id such as claude-sonnet-4-5 (1-100 letters, digits and . _ : @ -, starting with a letter or digit)';
  }
  return null;
}

/** The retry rule Anthropic's SDKs and Claude Code obey: timeouts, conflicts, rate limits and 5xx are transient. */
export const shouldRetryStatus = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;
