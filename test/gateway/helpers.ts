import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { cliActor, createServices, type Services } from '../../src/services/index.js';
import type { LimitService } from '../../src/services/limits.js';
import { orgForCli } from '../../src/services/orgs.js';
import { afterAll, beforeAll } from 'vitest';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

export const MODEL = 'claude-sonnet-4-6';
export const SERVER_SECRET = 'test-server-secret-0123456789abcdefghij';
export const UPSTREAM_KEY = 'sk-ant-upstream-test-key';
export const quietLogger = () => pino({ level: 'silent' });

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Resolves true when the client side of this upstream request went away before the end. */
  closedEarly: Promise<boolean>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export const USAGE = { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

export function messageJson(model: string, usage: Record<string, unknown> = USAGE) {
  return {
    id: 'msg_mock', type: 'message', role: 'assistant', model,
    content: [{ type: 'text', text: 'Hello from the mock.' }],
    stop_reason: 'end_turn', stop_sequence: null, usage,
  };
}

export function sse(events: [string, unknown][]): string {
  return events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('');
}

export function streamEvents(model: string, input = 10, output = 20): [string, unknown][] {
  return [
    ['message_start', { type: 'message_start', message: { ...messageJson(model, { input_tokens: input, output_tokens: 1 }), content: [], stop_reason: null } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['ping', { type: 'ping' }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' world' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: output } }],
    ['message_stop', { type: 'message_stop' }],
  ];
}

/** Default upstream: answers like the Messages API and records what it was sent. */
export const defaultHandler: Handler = (req, res, body) => {
  const headers = { 'content-type': 'application/json', 'request-id': 'req_upstream_1', 'anthropic-ratelimit-requests-limit': '4000' };
  if (req.url?.startsWith('/v1/messages/count_tokens')) {
    res.writeHead(200, headers).end(JSON.stringify({ input_tokens: 42 }));
  } else if (req.url?.startsWith('/v1/messages')) {
    const parsed = JSON.parse(body) as { model: string; stream?: boolean };
    if (parsed.stream) {
      res.writeHead(200, { ...headers, 'content-type': 'text/event-stream' }).end(sse(streamEvents(parsed.model)));
    } else res.writeHead(200, headers).end(JSON.stringify(messageJson(parsed.model)));
  } else if (req.url === '/v1/models') {
    res.writeHead(200, headers).end(JSON.stringify({ data: [{ type: 'model', id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' }], first_id: 'claude-sonnet-4-6', last_id: 'claude-sonnet-4-6', has_more: false }));
  } else if (req.url?.startsWith('/v1/models/')) {
    const id = req.url.slice('/v1/models/'.length);
    res.writeHead(200, headers).end(JSON.stringify({ type: 'model', id, display_name: id, created_at: '2025-09-29T00:00:00Z' }));
  } else {
    res.writeHead(404, headers).end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'nope' } }));
  }
};

export interface MockUpstream {
  url: string;
  seen: Seen[];
  handler: Handler;
  close(): Promise<void>;
}

export async function startMockUpstream(): Promise<MockUpstream> {
  const mock: MockUpstream = { url: '', seen: [], handler: defaultHandler, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let resolveClosed!: (v: boolean) => void;
    const closedEarly = new Promise<boolean>((r) => (resolveClosed = r));
    res.on('close', () => resolveClosed(!res.writableFinished));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      mock.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, closedEarly });
      mock.handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  mock.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mock.close = () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
  return mock;
}

export function testConfig(upstreamUrl: string, extra: Record<string, string> = {}): Config {
  return loadConfig(
    {
      NODE_ENV: 'test', KEYWARD_SECRET: SERVER_SECRET, ANTHROPIC_BASE_URL: upstreamUrl, ANTHROPIC_API_KEY: UPSTREAM_KEY,
      KEYWARD_TIMEZONE: 'Europe/Berlin', DATABASE_URL: 'file:/tmp/unused.db', ...extra,
    },
    { generateSecret: false },
  );
}

export interface GatewayServer {
  url: string;
  gateway: Gateway;
  close(): Promise<void>;
}

/** The composition root's shape: one node:http server, gateway first, then everything else 404. */
export async function startGatewayServer(
  t: TestDatabase, config: Config, opts: { drainMs?: number; now?: () => Date; db?: TestDatabase['db'] } = {},
): Promise<GatewayServer> {
  const gateway = createGateway({ db: opts.db ?? t.db, provider: t.provider, config, logger: quietLogger(), drainMs: opts.drainMs, now: opts.now });
  await gateway.start();
  const server = http.createServer((req, res) => {
    if (gateway.handle(req, res)) return;
    res.writeHead(404).end('not a gateway route');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  return {
    url,
    gateway,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await gateway.stop();
    },
  };
}

export interface World {
  services: Services;
  limits: LimitService;
  orgId: string;
  admin: ReturnType<typeof cliActor>;
  /** Creates a project (once) and a key in it; returns the secret. */
  key(project: string, opts?: { scope?: 'full' | 'inference' | 'read-only'; rpm?: number; name?: string; expiresInMs?: number }): Promise<{ id: string; secret: string }>;
}

let keyCounter = 0;
export async function world(t: TestDatabase, now?: () => Date): Promise<World> {
  const services = createServices({ db: t.db, secret: SERVER_SECRET, logger: quietLogger(), now, timezone: 'Europe/Berlin' });
  const orgId = await orgForCli(t.db, new Date());
  const admin = cliActor(orgId, 'tester');
  const limits = services.limits;
  const projects = new Set<string>();
  return {
    services, limits, orgId, admin,
    async key(project, o = {}) {
      if (!projects.has(project)) {
        await services.projects.create(admin, project).catch(() => {});
        projects.add(project);
      }
      const { key, secret } = await services.keys.create(admin, {
        project, name: o.name ?? `k${++keyCounter}`, scope: o.scope ?? 'full', rpm: o.rpm, expiresInMs: o.expiresInMs, ownerId: 'U0TESTER',
      });
      return { id: key.id, secret };
    },
  };
}

export const sdk = (baseURL: string, apiKey: string) => new Anthropic({ baseURL, apiKey, maxRetries: 0 });

export async function raw(url: string, init: RequestInit & { key?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('x-api-key', init.key);
  if (!headers.has('anthropic-version')) headers.set('anthropic-version', '2023-06-01');
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const messageBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }], ...extra });

export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await wait(20);
  }
}

export interface Suite {
  t: TestDatabase;
  up: MockUpstream;
  gw: GatewayServer;
  w: World;
}

/** One fresh database, mock upstream, gateway server and world for a describe block; `ready` receives them. */
export function gatewaySuite(
  ready: (s: Suite) => void,
  config: Record<string, string> = {},
  options: (t: TestDatabase) => Parameters<typeof startGatewayServer>[2] = () => ({}),
) {
  let s: Partial<Suite> = {};
  beforeAll(async () => {
    const t = await freshDatabase();
    s.t = t;
    s.up = await startMockUpstream();
    s.gw = await startGatewayServer(t, testConfig(s.up.url, config), options(t));
    s.w = await world(t);
    ready(s as Suite);
  });
  afterAll(async () => {
    await s.gw?.close();
    await s.up?.close();
    await s.t?.drop();
    s = {};
  });
}
