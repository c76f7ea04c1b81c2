import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import {
  defaultHandler, messageBody, messageJson, MODEL, raw, sdk, sse, startGatewayServer, startMockUpstream, streamEvents,
  testConfig, until, UPSTREAM_KEY, wait, world, type GatewayServer, type MockUpstream, type World,
} from './helpers.js';

describe(`gateway pass-through (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;
  let secret: string;
  let keyId: string;

  beforeAll(async () => {
    t = await freshDatabase();
    up = await startMockUpstream();
    gw = await startGatewayServer(t, testConfig(up.url, { UPSTREAM_TIMEOUT_MS: '300' }));
    w = await world(t);
    ({ secret, id: keyId } = await w.key('demo'));
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
    await t?.drop();
  });
  beforeEach(() => {
    up.seen.length = 0;
    up.handler = defaultHandler;
  });

  it('the official SDK gets a message through keyward; upstream sees the upstream key, never the keyward key', async () => {
    const msg = await sdk(gw.url, secret).messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Hello from the mock.' });
    expect(msg.usage.output_tokens).toBe(20);
    const seen = up.seen[0]!;
    expect(seen.headers['x-api-key']).toBe(UPSTREAM_KEY);
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(secret);
    expect(JSON.parse(seen.body)).toMatchObject({ model: MODEL, max_tokens: 100 });
  });

  it('passes anthropic-version, anthropic-beta and the body unchanged; passes back status, request-id and rate-limit headers', async () => {
    const body = `{"model":"${MODEL}",  "max_tokens":5,"messages":[{"role":"user","content":"é ünïcode"}]}`;
    const res = await raw(`${gw.url}/v1/messages?beta=true`, {
      method: 'POST', key: secret, body,
      headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'prompt-caching-2024-07-31,files-api-2025-04-14' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toBe('req_upstream_1');
    expect(res.headers.get('anthropic-ratelimit-requests-limit')).toBe('4000');
    expect(res.headers.get('x-keyward-overhead-ms')).toMatch(/^\d+\.\d{3}$/);
    const seen = up.seen[0]!;
    expect(seen.url).toBe('/v1/messages?beta=true');
    expect(seen.body).toBe(body);
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31,files-api-2025-04-14');
  });

  it('accepts Authorization: Bearer as well as x-api-key', async () => {
    const res = await raw(`${gw.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(200);
    expect(up.seen[0]!.headers.authorization).toBeUndefined();
    expect(up.seen[0]!.headers['x-api-key']).toBe(UPSTREAM_KEY);
  });

  it('streams SSE through and records usage from message_start + cumulative message_delta', async () => {
    const stream = sdk(gw.url, secret).messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    const text: string[] = [];
    stream.on('text', (d) => text.push(d));
    const final = await stream.finalMessage();
    expect(text.join('')).toBe('Hello world');
    expect(final.usage.output_tokens).toBe(20);
    await gw.gateway.flush();
    const ev = await t.db.usageEvent.findFirstOrThrow({ where: { keyId, stream: true } });
    expect(ev).toMatchObject({ inputTokens: 10, outputTokens: 20, status: 200, model: MODEL, errorClass: null });
    expect(ev.costMicros).toBe(330n); // $3 / $15 per MTok: 10*3 + 20*15 micro-dollars
  });

  it('forwards chunks as they arrive instead of buffering the stream', async () => {
    const events = streamEvents(MODEL);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(events.slice(0, 4)));
      void gate.then(() => res.end(sse(events.slice(4))));
    };
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST', body: messageBody({ stream: true }),
      headers: { 'x-api-key': secret, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: message_start'); // arrived while upstream still holds the rest
    release();
    while (!(await reader.read()).done) { /* drain */ }
  });

  it('an error event after a 200 stream is passed through and recorded as stream_error', async () => {
    const events = streamEvents(MODEL, 12, 3);
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(sse([events[0]!, ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }]]));
    };
    const res = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody({ stream: true, metadata: { user_id: 'err' } }) });
    expect(res.status).toBe(200);
    expect(res.text).toContain('event: error');
    await gw.gateway.flush();
    const ev = await t.db.usageEvent.findFirstOrThrow({ where: { keyId, errorClass: 'stream_error' } });
    expect(ev).toMatchObject({ inputTokens: 12, stream: true });
  });

  it('prices cache reads and writes with the table multipliers', async () => {
    const usage = {
      input_tokens: 100, output_tokens: 10, cache_read_input_tokens: 1000, cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 100 },
    };
    up.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(messageJson(MODEL, usage)));
    const res = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody({ metadata: { user_id: 'cache' } }) });
    expect(res.status).toBe(200);
    await gw.gateway.flush();
    const ev = (await t.db.usageEvent.findMany({ where: { keyId }, orderBy: { createdAt: 'desc' }, take: 1 }))[0]!;
    expect(ev).toMatchObject({ inputTokens: 100, outputTokens: 10, cacheReadTokens: 1000, cacheWriteTokens: 300 });
    // 100*3 + 10*15 + 1000*0.3 + 200*3.75 + 100*6 = 300 + 150 + 300 + 750 + 600
    expect(ev.costMicros).toBe(2100n);
  });

  it('passes upstream errors through with their status and body', async () => {
    up.handler = (_req, res) => res.writeHead(400, { 'content-type': 'application/json', 'request-id': 'req_up_400' })
      .end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: required' }, request_id: 'req_up_400' }));
    const res = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
    expect(res.status).toBe(400);
    expect(res.headers.get('request-id')).toBe('req_up_400');
    expect(res.json.error.message).toBe('max_tokens: required');
  });

  it('upstream unreachable → 502 api_error', async () => {
    const dead = await startGatewayServer(t, testConfig('http://127.0.0.1:1'));
    try {
      const res = await raw(`${dead.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
      expect(res.status).toBe(502);
      expect(res.json).toMatchObject({ type: 'error', error: { type: 'api_error' } });
      expect(res.json.request_id).toMatch(/^req_/);
    } finally {
      await dead.close();
    }
  });

  it('upstream silent past UPSTREAM_TIMEOUT_MS → 504 timeout_error', async () => {
    up.handler = () => {};
    const res = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
    expect(res.status).toBe(504);
    expect(res.json).toMatchObject({ type: 'error', error: { type: 'timeout_error' } });
  });

  it('body over 32 MB → 413 request_too_large; invalid JSON → 400; unknown route → 404', async () => {
    const big = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: 'x'.repeat(32 * 1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    const bad = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: '{"model": ' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const none = await raw(`${gw.url}/v1/complete`, { method: 'POST', key: secret, body: '{}' });
    expect(none.status).toBe(404);
    expect(none.json.error.type).toBe('not_found_error');
    expect(up.seen).toHaveLength(0);
  });

  it('a client that disconnects mid-stream aborts the upstream request and its partial usage is recorded', async () => {
    const events = streamEvents(MODEL, 50, 7);
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(events.slice(0, 4)));
      res.write(sse([events[6]!])); // cumulative output so far: 7 tokens; never finishes by itself
    };
    const port = Number(new URL(gw.url).port);
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', headers: { 'x-api-key': secret, 'content-type': 'application/json' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.end(messageBody({ stream: true, metadata: { user_id: 'disconnect' } }));
    });
    await until(() => up.seen.length, (n) => n > 0);
    expect(await up.seen[0]!.closedEarly).toBe(true);
    await wait(50);
    await gw.gateway.flush();
    const ev = await t.db.usageEvent.findFirstOrThrow({ where: { keyId, errorClass: 'client_closed' } });
    expect(ev).toMatchObject({ inputTokens: 50, outputTokens: 7 });
  });

  it('GET /metrics exposes requests by status and scope, latency and overhead histograms, rejections and queue depth', async () => {
    await raw(`${gw.url}/v1/messages`, { method: 'POST', key: 'sk-kw-nonsense', body: messageBody() });
    const res = await fetch(`${gw.url}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(text).toMatch(/keyward_gateway_requests_total\{status="200",scope="full"\} \d+/);
    expect(text).toMatch(/keyward_gateway_rejections_total\{reason="authentication"\} [1-9]/);
    expect(text).toContain('keyward_gateway_upstream_latency_seconds_bucket');
    expect(text).toContain('keyward_gateway_overhead_seconds_count');
    expect(text).toMatch(/keyward_gateway_usage_queue_depth \d+/);
  });

  it('leaves non-gateway routes to the rest of the server', async () => {
    const res = await fetch(`${gw.url}/slack/events`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('not a gateway route');
  });
});
