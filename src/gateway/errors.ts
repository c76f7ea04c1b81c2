import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { shouldRetryStatus } from '../domain/models.js';

export type ApiErrorType =
  | 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error'
  | 'request_too_large' | 'rate_limit_error' | 'api_error' | 'timeout_error' | 'overloaded_error';

// Request ids without crypto per request: a random process prefix and a counter.
const prefix = `req_kw${randomBytes(6).toString('base64url').replace(/[-_]/g, 'x')}`;
let counter = 0;
export const newRequestId = () => `${prefix}${(++counter).toString(36)}`;

/**
 * Anthropic's error shape; `request-id` header and body field agree. `x-should-retry` tells the
 * SDKs and Claude Code at once whether to retry (a revoked key must not be retried for minutes).
 */
export function sendError(
  res: ServerResponse,
  status: number,
  type: ApiErrorType,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = newRequestId();
  const body = JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'request-id': requestId,
    'x-should-retry': shouldRetryStatus(status) ? 'true' : 'false',
    ...headers,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'request-id': newRequestId() });
  res.end(body);
}
