import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export interface HttpRoutes {
  /** Gateway: returns true when it took the request (/v1/*, /metrics). */
  gateway?: { handle(req: IncomingMessage, res: ServerResponse): boolean };
  /** Bolt's HTTP receiver listener for /slack/*, when Slack runs in HTTP mode. */
  slack?: http.RequestListener | null;
  /** Readiness: true when the database answers. */
  ready: () => Promise<boolean>;
  logger: Logger;
}

function json(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** One server, one port: gateway, Slack receiver and health checks. */
export function createHttpServer(routes: HttpRoutes): http.Server {
  const server = http.createServer((req, res) => {
    try {
      const url = req.url ?? '/';
      if (routes.gateway?.handle(req, res)) return;
      if (url.startsWith('/slack/')) {
        if (routes.slack) return void routes.slack(req, res);
        return json(res, 503, { error: 'slack_not_configured', message: 'Slack credentials are not set; see README and manifest.yml.' });
      }
      const path = url.split('?')[0];
      if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) return json(res, 200, { status: 'ok' });
      if (path === '/readyz' && (req.method === 'GET' || req.method === 'HEAD')) {
        routes.ready().then(
          (ok) => json(res, ok ? 200 : 503, { status: ok ? 'ready' : 'database unavailable' }),
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
  // Slow clients must not hold sockets forever; long streams are handled by the gateway's own timeouts.
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  return server;
}
