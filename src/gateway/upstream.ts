import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { TokenUsage } from '../domain/pricing.js';
import { applyUsage, emptyUsage, errorClassForUpstream, type ErrorClass, type StreamTally } from '../domain/usage.js';
import { sendError } from './errors.js';
import { SseUsageTracker } from './sse.js';

/** Request headers never forwarded: hop-by-hop, the client's credentials, and encodings we must read. */
const DROP_REQUEST = new Set([
  'host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-authorization',
  'proxy-connection', 'authorization', 'x-api-key', 'content-length', 'cookie', 'accept-encoding', 'expect',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'set-cookie']);

export class Upstream {
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly prefix: string;
  private readonly hostHeader: string;

  constructor(
    baseUrl: string,
    private readonly apiKey: string | undefined,
    private readonly timeoutMs: number,
  ) {
    const u = new URL(baseUrl);
    const secure = u.protocol === 'https:';
    this.transport = secure ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' });
    this.host = u.hostname;
    this.port = Number(u.port) || (secure ? 443 : 80);
    this.prefix = u.pathname.replace(/\/+$/, '');
    this.hostHeader = u.host;
  }

  close() {
    this.agent.destroy();
  }

  /**
   * Forwards one request and streams the answer back as it arrives. `done` runs exactly once, when
   * the response ended, failed, timed out or the client went away, with the usage seen so far.
   */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | null,
    opts: { captureUsage: boolean; extraHeaders: Record<string, string> },
    done: (r: ForwardResult) => void,
  ): void {
    const headers: Record<string, string | string[]> = {};
    const src = req.headers;
    for (const name in src) {
      if (!DROP_REQUEST.has(name)) headers[name] = src[name]!;
    }
    headers.host = this.hostHeader;
    if (this.apiKey) headers['x-api-key'] = this.apiKey;
    if (body) headers['content-length'] = String(body.length);

    const started = performance.now();
    const usage = emptyUsage();
    let tracker: SseUsageTracker | null = null;
    let jsonChunks: Buffer[] | null = null;
    let jsonBytes = 0;
    let status = 0;
    let responded = false;
    let finished = false;
    const finish = (errorClass: ErrorClass | null, complete: boolean) => {
      if (finished) return;
      finished = true;
      if (jsonChunks && complete) {
        try {
          applyUsage(usage, (JSON.parse(Buffer.concat(jsonChunks).toString('utf8')) as { usage?: unknown }).usage);
        } catch {
          /* not JSON: no usage */
        }
      }
      // Whether the usage read is all the upstream can have billed (see billableUsage).
      let final = true;
      if (tracker) {
        if (!complete) tracker.end();
        final = tracker.sawDelta;
      } else if (jsonChunks) final = complete;
      else if (!responded && opts.captureUsage) final = errorClass !== 'client_closed' && errorClass !== 'timeout';
      if (tracker?.errorType && !errorClass) errorClass = 'stream_error';
      done({ status, usage, final, tally: tracker, errorClass, upstreamMs: performance.now() - started, stream: tracker !== null });
    };

    const upReq = this.transport.request({
      host: this.host, port: this.port, method: req.method, path: this.prefix + req.url, headers, agent: this.agent,
    });
    let timedOut = false;
    // Inactivity timeout: a stream that keeps sending (Anthropic pings) may run longer.
    upReq.setTimeout(this.timeoutMs, () => {
      timedOut = true;
      upReq.destroy();
    });
    upReq.on('error', () => {
      if (finished) return;
      if (!res.headersSent) {
        status = timedOut ? 504 : 502;
        if (timedOut) sendError(res, 504, 'timeout_error', `The upstream API did not answer within ${Math.round(this.timeoutMs / 1000)} s.`);
        else sendError(res, 502, 'api_error', 'The upstream API could not be reached. Try again shortly.');
      } else res.destroy();
      finish(timedOut ? 'timeout' : 'upstream_unreachable', false);
    });
    // The client went away: stop the upstream request too (Anthropic stops generating).
    res.on('close', () => {
      if (!finished && !res.writableFinished) {
        upReq.destroy();
        finish('client_closed', false);
      }
    });

    upReq.on('response', (upRes: IncomingMessage) => {
      responded = true;
      status = upRes.statusCode ?? 502;
      const out: Record<string, string | string[]> = {};
      for (const name in upRes.headers) if (!DROP_RESPONSE.has(name)) out[name] = upRes.headers[name]!;
      for (const name in opts.extraHeaders) out[name] = opts.extraHeaders[name]!;
      res.writeHead(status, out);
      if (opts.captureUsage && status === 200) {
        const type = upRes.headers['content-type'] ?? '';
        if (type.startsWith('text/event-stream')) tracker = new SseUsageTracker(usage);
        else jsonChunks = [];
      }
      upRes.on('data', (chunk: Buffer) => {
        if (tracker) tracker.feed(chunk);
        else if (jsonChunks && (jsonBytes += chunk.length) < 64_000_000) jsonChunks.push(chunk);
        if (!res.write(chunk)) {
          upRes.pause();
          res.once('drain', () => upRes.resume());
        }
      });
      upRes.on('end', () => {
        res.end();
        finish(errorClassForUpstream(status), true);
      });
      // Upstream cut the connection mid-response: the client cannot be told otherwise.
      upRes.on('close', () => {
        if (!upRes.complete) {
          res.destroy();
          finish(timedOut ? 'timeout' : 'upstream_unreachable', false);
        }
      });
      upRes.on('error', () => {});
    });
    upReq.end(body ?? undefined);
  }
}

export interface ForwardResult {
  /** Upstream status, or the gateway's 502/504 when upstream failed first; 0 if the client left first. */
  status: number;
  /** Usage as the upstream reported it. */
  usage: TokenUsage;
  /** False when the upstream may have billed more than `usage` says: the answer was cut off or never came. */
  final: boolean;
  /** What a stream showed of itself (null for JSON answers). */
  tally: StreamTally | null;
  errorClass: ErrorClass | null;
  upstreamMs: number;
  stream: boolean;
}
