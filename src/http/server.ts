import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { shouldRetryStatus } from '../domain/models.js';
import { newRequestId } from '../gateway/errors.js';

export interface HttpRoutes {
  /** Gateway: returns true when it took the request (/v1/*, /metrics). */
  gateway?: { handle(req: IncomingMessage, res: ServerResponse): boolean };
  /** Bolt's HTTP receiver listener for /slack/*, when Slack runs in HTTP mode. */
  slack?: http.RequestListener | null;
  /** Readiness: null when ready, else why not (database unavailable, usage backlog…). */
  ready: () => Promise<string | null>;
  logger: Logger;
  /** Slow-client limits (config.http); responses, such as long streams, are never cut by them. */
  timeouts?: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
}

const DEFAULT_TIMEOUTS = { headersTimeoutMs: 30_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 65_000 };

function json(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  if (status >= 400) {
    headers['request-id'] = newRequestId();
    headers['x-should-retry'] = shouldRetryStatus(status) ? 'true' : 'false';
  }
  res.writeHead(status, headers);
  res.end(text);
}

/** One server, one port: gateway, Slack receiver and health checks. */
export function createHttpServer(routes: HttpRoutes): http.Server {
  const t = routes.timeouts ?? DEFAULT_TIMEOUTS;
  const server = http.createServer({
    headersTimeout: t.headersTimeoutMs,
    // Node's requestTimeout covers receiving the request (head and body), not sending the response.
    requestTimeout: t.requestTimeoutMs,
    // How often expired requests are looked for (Node's default, 30 s, would let a short timeout run long).
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(t.headersTimeoutMs / 4))),
  }, (req, res) => {
    try {
      const url = req.url ?? '/';
      if (routes.gateway?.handle(req, res)) return;
      if (url.startsWith('/slack/')) {
        if (routes.slack) return void routes.slack(req, res);
        return json(res, 503, { error: 'slack_not_configured', message: 'Slack credentials are not set; see README and manifest.yml.' });
      }
      const path = url.split('?')[0];
      const read = req.method === 'GET' || req.method === 'HEAD';
      // Claude Code probes the base URL before its first request: answer without auth or database.
      if (path === '/' && read) {
        res.writeHead(200, { 'content-length': 0 });
        return void res.end();
      }
      if (path === '/healthz' && read) return json(res, 200, { status: 'ok' });
      if (path === '/readyz' && read) {
        routes.ready().then(
          (problem) => json(res, problem ? 503 : 200, { status: problem ?? 'ready' }),
          () => json(res, 503, { status: 'database unavailable' }),
        );
        return;
      }
      json(res, 404, { error: 'not_found' });
    } catch (error) {
      routes.logger.error({ err: error }, 'request handler failed');
      if (!res.headersSent) json(res, 500, { error: 'internal' });
      else res.destroy();
    }
  });
  server.keepAliveTimeout = t.keepAliveTimeoutMs;
  return server;
}
