import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway/index.js';
import { createHttpServer } from '../src/http/server.js';
import { freshDatabase, usingPostgres, type TestDatabase } from './helpers/db.js';
import { MODEL, quietLogger, sse, startMockUpstream, streamEvents, testConfig, world, type MockUpstream } from './gateway/helpers.js';

/** Opens a socket, writes `text`, and resolves when the server closes it (with what it answered and when). */
function hold(port: number, text: string) {
  const socket = net.connect(port, '127.0.0.1');
  const started = Date.now();
  let data = '';
  socket.on('data', (c) => (data += c.toString()));
  socket.on('error', () => {});
  socket.write(text);
  return new Promise<{ data: string; ms: number }>((resolve) => socket.on('close', () => resolve({ data, ms: Date.now() - started })));
}

describe(`the HTTP server: probes and slow clients (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gateway: Gateway;
  let server: http.Server;
  let port: number;
  const slackBodies: string[] = [];
  const timeouts = { headersTimeoutMs: 300, requestTimeoutMs: 800, keepAliveTimeoutMs: 5_000 };

  beforeAll(async () => {
    t = await freshDatabase();
    up = await startMockUpstream();
    const config = testConfig(up.url, { HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '800', GATEWAY_BODY_TIMEOUT_MS: '600' });
    gateway = createGateway({ db: t.db, provider: t.provider, config, logger: quietLogger() });
    await gateway.start();
    // Like Bolt's receiver: reads the whole body before answering.
    const slack: http.RequestListener = (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        slackBodies.push(body);
        res.writeHead(200).end('ok');
      });
    };
    server = createHttpServer({ logger: quietLogger(), gateway, slack, timeouts, ready: async () => gateway.health() });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    await gateway?.stop();
    await up?.close();
    await t?.drop();
  });

  it('HEAD / and GET / answer 200 with no body, no key and no database', async () => {
    const before = up.seen.length;
    const head = await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('0');
    const get = await fetch(`http://127.0.0.1:${port}/`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('');
    expect(up.seen.length).toBe(before);
    const other = await fetch(`http://127.0.0.1:${port}/nothing`);
    expect(other.status).toBe(404);
    expect(other.headers.get('x-should-retry')).toBe('false');
    expect(other.headers.get('request-id')).toMatch(/^req_/);
  });

  it('a client that never finishes its headers is cut after the headers timeout', async () => {
    const { ms } = await hold(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(2_500);
  });

  it('a slow body on /slack/events (slowloris) is cut after the request timeout', async () => {
    const { data, ms } = await hold(port, 'POST /slack/events HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"a":');
    expect(data).not.toContain('200 OK');
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(ms).toBeLessThan(3_000);
    expect(slackBodies).toHaveLength(0);
  });

  it('a stream that runs longer than every timeout is not cut', async () => {
    const { secret } = await world(t).then((w) => w.key('long'));
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const events = sse(streamEvents(MODEL)).split('\n\n').filter(Boolean);
      let i = 0;
      const tick = setInterval(() => {
        if (i < events.length) res.write(`${events[i++]}\n\n`);
        else {
          clearInterval(tick);
          res.end();
        }
      }, 250); // ~2 s in all: past the 300 ms headers and 800 ms request timeouts
    };
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': secret, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: MODEL, max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThan(1_500);
    expect(text).toContain('message_stop');
  });
});
