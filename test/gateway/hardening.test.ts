import http from 'node:http';
import net from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { hashSecret, newSecret } from '../../src/domain/keys.js';
import type { Db } from '../../src/db/client.js';
import { usingPostgres, type TestDatabase } from '../helpers/db.js';
import {
  defaultHandler, messageBody, raw, SERVER_SECRET, until, wait,
  gatewaySuite, type GatewayServer, type MockUpstream, type World,
} from './helpers.js';

/** A request with the path exactly as given (fetch would normalise `..` and `%2F`). */
function rawPath(base: string, path: string, key: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends the head of a POST and `sent` bytes of its body, then waits: resolves with what came back and when. */
function slowPost(base: string, key: string, declared: number, sent: number) {
  const u = new URL(base);
  const socket = net.connect(Number(u.port), u.hostname);
  const started = Date.now();
  let data = '';
  const closed = new Promise<{ data: string; ms: number }>((resolve) => {
    socket.on('data', (c) => (data += c.toString()));
    socket.on('close', () => resolve({ data, ms: Date.now() - started }));
    socket.on('error', () => {});
  });
  socket.write(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${key}\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`);
  socket.write('{'.padEnd(sent, ' '));
  return { socket, closed, response: () => data };
}

/** Counts the key lookups the gateway makes (one per database query for an unknown hash). */
function countingDb(db: Db) {
  const counter = { lookups: 0 };
  const apiKey = new Proxy(db.apiKey, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop === 'findFirst') return (...args: unknown[]) => ((counter.lookups += 1), (v as (...a: unknown[]) => unknown).apply(target, args));
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const proxied = new Proxy(db, { get: (target, prop, receiver) => (prop === 'apiKey' ? apiKey : Reflect.get(target, prop, receiver)) });
  return { db: proxied as Db, counter };
}

describe(`gateway input limits and retry hints (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;
  let counted: ReturnType<typeof countingDb>;
  const METRICS_TOKEN = 'metrics-token-0123456789';

  gatewaySuite((s) => ({ t, up, gw, w } = s), {
    UPSTREAM_TIMEOUT_MS: '300', GATEWAY_KEY_DEFAULT_RPM: '3', GATEWAY_BODY_MEMORY_MB: '32', GATEWAY_BODY_MEMORY_PER_KEY_MB: '24',
    GATEWAY_BODY_TIMEOUT_MS: '2000', METRICS_TOKEN,
  }, (db) => {
    counted = countingDb(db.db);
    return { db: counted.db };
  });
  beforeEach(() => {
    up.seen.length = 0;
    up.handler = defaultHandler;
  });

  it("keyward's own answers say whether to retry and carry a request-id; upstream answers pass through unchanged", async () => {
    const { secret } = await w.key('hints');
    const readOnly = (await w.key('hints', { scope: 'read-only' })).secret;
    const expectHint = (res: { status: number; headers: Headers; json: any }, status: number, retry: 'true' | 'false') => {
      expect(res.status).toBe(status);
      expect(res.headers.get('x-should-retry')).toBe(retry);
      expect(res.headers.get('request-id')).toMatch(/^req_/);
      expect(res.json.request_id).toBe(res.headers.get('request-id'));
    };
    expectHint(await raw(`${gw.url}/v1/messages`, { method: 'POST', body: messageBody() }), 401, 'false');
    expectHint(await raw(`${gw.url}/v1/messages`, { method: 'POST', key: `sk-kw-${'x'.repeat(40)}`, body: messageBody() }), 401, 'false');
    expectHint(await raw(`${gw.url}/v1/messages`, { method: 'POST', key: readOnly, body: messageBody() }), 403, 'false');
    expectHint(await raw(`${gw.url}/v1/nothing`, { key: secret }), 404, 'false');
    expectHint(await raw(`${gw.url}/v1/messages`, { key: secret }), 405, 'false');
    expectHint(await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: '{' }), 400, 'false');
    await w.limits.set(w.admin, 'hints', ['hard=0.000001']);
    await gw.gateway.refresh();
    const spend = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
    expectHint(spend, 400, 'false');
    expect(spend.json.error.message).toMatch(/^You have reached your specified API usage limits/);
    await w.limits.set(w.admin, 'hints', ['hard=none']);
    await gw.gateway.refresh();
    // Upstream unreachable: keyward's 502 is retryable.
    up.handler = (_req, res) => res.socket!.destroy();
    expectHint(await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() }), 502, 'true');
    // Upstream's own answers keep their own headers, without keyward's hint added.
    up.handler = (_req, res) => res.writeHead(500, { 'content-type': 'application/json', 'request-id': 'req_up' }).end('{"type":"error","error":{"type":"api_error","message":"x"}}');
    const passed = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
    expect(passed.status).toBe(500);
    expect(passed.headers.get('x-should-retry')).toBeNull();
    expect(passed.headers.get('request-id')).toBe('req_up');
    up.handler = (_req, res) => res.writeHead(529, { 'content-type': 'application/json', 'x-should-retry': 'false' }).end('{}');
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() })).headers.get('x-should-retry')).toBe('false');
  });

  it('/v1/models/{id} forwards only model ids: traversal, encoded slashes and backslashes are 404 and never reach upstream', async () => {
    const { secret } = await w.key('paths');
    for (const path of ['/v1/models/..', '/v1/models/..%2F..%2Fv1%2Fmessages', '/v1/models/%2e%2e', '/v1/models/a%5Cb', '/v1/models/a\\b', '/v1/models/.hidden', '/v1/models/a%00b']) {
      const res = await rawPath(gw.url, path, secret);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body).error.type, path).toBe('not_found_error');
      expect(res.headers['x-should-retry']).toBe('false');
    }
    expect(up.seen).toHaveLength(0);
    const ok = await rawPath(gw.url, '/v1/models/claude-sonnet-4-6', secret);
    expect(ok.status).toBe(200);
    expect(up.seen.map((s) => s.url)).toEqual(['/v1/models/claude-sonnet-4-6']);
  });

  it('count_tokens and models are rate-limited per key: the key rpm is shared with messages, else a default', async () => {
    const unlimited = (await w.key('rl')).secret; // no rpm: GATEWAY_KEY_DEFAULT_RPM=3 on these routes
    for (let i = 0; i < 3; i++) expect((await raw(`${gw.url}/v1/models`, { key: unlimited })).status).toBe(200);
    const limited = await raw(`${gw.url}/v1/messages/count_tokens`, { method: 'POST', key: unlimited, body: messageBody() });
    expect(limited.status).toBe(429);
    expect(limited.json.error.type).toBe('rate_limit_error');
    expect(limited.headers.get('x-should-retry')).toBe('true');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const two = (await w.key('rl', { rpm: 2 })).secret;
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: two, body: messageBody() })).status).toBe(200);
    expect((await raw(`${gw.url}/v1/messages/count_tokens`, { method: 'POST', key: two, body: messageBody() })).status).toBe(200);
    expect((await raw(`${gw.url}/v1/models`, { key: two })).status).toBe(429);
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: two, body: messageBody() })).status).toBe(429);
  });

  it('request bodies held in memory are capped per key and in all (529, retryable), and given back when done', async () => {
    const a = (await w.key('mem')).secret;
    const b = (await w.key('mem')).secret;
    const MB = 1024 * 1024;
    const slow = slowPost(gw.url, a, 20 * MB, 1000); // holds 20 MB of key a's 24
    const inFlight = async () => Number(/keyward_gateway_body_bytes_in_flight (\d+)/.exec(
      (await raw(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text)![1]);
    expect(await until(inFlight, (n) => n === 20 * MB)).toBe(20 * MB);
    const perKey = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: a, body: messageBody({ pad: 'x'.repeat(5 * MB) }) });
    expect(perKey.status).toBe(529);
    expect(perKey.json.error.type).toBe('overloaded_error');
    expect(perKey.headers.get('x-should-retry')).toBe('true');
    expect(perKey.headers.get('retry-after')).toBe('1');
    const total = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: b, body: messageBody({ pad: 'x'.repeat(13 * MB) }) });
    expect(total.status).toBe(529); // 20 + 13 > 32 MB
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: b, body: messageBody() })).status).toBe(200);
    expect(up.seen.every((s) => s.body.length < MB)).toBe(true);
    // The slow body times out (GATEWAY_BODY_TIMEOUT_MS=2000): 408, connection closed, memory given back.
    const { data, ms } = await slow.closed;
    expect(data).toMatch(/^HTTP\/1\.1 408 /);
    expect(data).toContain('"timeout_error"');
    expect(ms).toBeGreaterThanOrEqual(1_900);
    expect(ms).toBeLessThan(5_000);
    expect(await until(inFlight, (n) => n === 0)).toBe(0);
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: a, body: messageBody({ pad: 'x'.repeat(5 * MB) }) })).status).toBe(200);
  });

  it('/metrics needs the bearer token when METRICS_TOKEN is set', async () => {
    const none = await raw(`${gw.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('x-should-retry')).toBe('false');
    expect((await raw(`${gw.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await raw(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('keyward_gateway_usage_queue_depth');
  });

  it('unknown keys cost one query (concurrent ones coalesced) and stay cached across unrelated key changes; a hash that becomes valid is served at once', async () => {
    const garbage = newSecret();
    const before = counted.counter.lookups;
    const answers = await Promise.all(Array.from({ length: 10 }, () => raw(`${gw.url}/v1/models`, { key: garbage })));
    expect(answers.every((r) => r.status === 401)).toBe(true);
    expect(counted.counter.lookups - before).toBe(1);

    await w.key('neg'); // an unrelated key change
    await gw.gateway.refresh();
    await wait(50);
    expect((await raw(`${gw.url}/v1/models`, { key: garbage })).status).toBe(401);
    expect(counted.counter.lookups - before).toBe(1);

    // A secret looked up before it existed becomes a key's secret (as a rotation would make it).
    const future = newSecret();
    expect((await raw(`${gw.url}/v1/models`, { key: future })).status).toBe(401);
    const target = await w.key('neg');
    await t.db.$transaction([
      t.db.apiKey.update({ where: { id: target.id }, data: { secretHash: hashSecret(SERVER_SECRET, future) } }),
      t.db.keyChange.create({ data: { keyId: target.id, createdAt: new Date() } }),
    ]);
    await gw.gateway.refresh();
    expect((await raw(`${gw.url}/v1/models`, { key: future })).status).toBe(200);
    await wait(50);
    const lookups = counted.counter.lookups;
    expect((await raw(`${gw.url}/v1/models`, { key: garbage })).status).toBe(401);
    expect(counted.counter.lookups).toBe(lookups);
  });
});
