import http from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { monthPeriod } from '../../src/domain/periods.js';
import { projectLimitId } from '../../src/services/limits.js';
import { usingPostgres, type TestDatabase } from '../helpers/db.js';
import {
  defaultHandler, messageBody, messageJson, raw, sse, until,
  gatewaySuite, type GatewayServer, type MockUpstream, type World,
} from './helpers.js';

const OPUS = 'claude-opus-4-5'; // $5 / $25 per MTok
/** 48 characters of English: about 12 tokens, as the mock "generates" them. */
const CHUNK = 'The answer continues with more careful detail. ';
const TOKENS_PER_CHUNK = 12;

const startEvent = (model: string, input: number): [string, unknown] =>
  ['message_start', { type: 'message_start', message: { ...messageJson(model, { input_tokens: input, output_tokens: 1 }), content: [], stop_reason: null } }];
const deltaEvent: [string, unknown] = ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: CHUNK } }];

/** Posts `body`, reads until `bytes` have arrived (or `hangUp` resolves), then hangs up. */
function readThenHangUp(url: string, key: string, body: string, bytes: number, hangUp?: Promise<unknown>): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    let got = '';
    const req = http.request({
      host: u.hostname, port: u.port, method: 'POST', path: '/v1/messages',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    }, (res) => {
      res.on('data', (c: Buffer) => {
        got += c.toString('utf8');
        if (got.length >= bytes) {
          req.destroy();
          resolve(got);
        }
      });
      res.on('end', () => resolve(got));
    });
    req.on('error', () => resolve(got));
    req.end(body);
    void hangUp?.then(() => {
      req.destroy();
      resolve(got);
    });
  });
}

/** Whole content deltas in what a client received. */
const deltasIn = (received: string) => received.split('\n\n').filter((e) => e.startsWith('event: content_block_delta') && e.endsWith('}')).length;

describe(`accounting that cannot be dodged (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;

  gatewaySuite((s) => ({ t, up, gw, w } = s), { KEYWARD_RESERVE_FETCH_TOKENS: '1000' });
  beforeEach(() => {
    up.handler = defaultHandler;
  });

  /** An endless Opus answer: message_start, then 10 deltas every 5 ms until the gateway hangs up. */
  const endlessStream = (input = 20) => {
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse([startEvent(OPUS, input), ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }]]));
      const timer = setInterval(() => res.write(sse(Array.from({ length: 10 }, () => deltaEvent))), 5);
      res.on('close', () => clearInterval(timer));
    };
  };
  /** The project's n-th usage event (1-based), once the gateway has recorded it. */
  const eventNo = async (projectId: string, n: number) => {
    const list = await until(async () => {
      await gw.gateway.flush();
      return t.db.usageEvent.findMany({ where: { projectId }, orderBy: { createdAt: 'asc' } });
    }, (l) => l.length >= n);
    return list[n - 1]!;
  };
  async function project(name: string, hard?: string) {
    const { secret } = await w.key(name);
    const view = await w.limits.set(w.admin, name, [`hard=${hard ?? '100'}`]);
    await gw.gateway.refresh();
    return { secret, projectId: view.projectId! };
  }

  it('a client that reads ~2 KB of a long Opus stream and hangs up pays for at least what it received', async () => {
    const { secret, projectId } = await project('hangup');
    endlessStream();
    const received = await readThenHangUp(gw.url, secret, messageBody({ model: OPUS, max_tokens: 4000, stream: true }), 2048);
    expect(received.length).toBeGreaterThanOrEqual(2048);
    const receivedTokens = deltasIn(received) * TOKENS_PER_CHUNK;
    expect(receivedTokens).toBeGreaterThan(100);
    const ev = await eventNo(projectId, 1);
    expect(ev).toMatchObject({ errorClass: 'client_closed', stream: true, inputTokens: 20 });
    expect(ev.outputTokens).toBeGreaterThanOrEqual(receivedTokens);
    expect(ev.outputTokens).toBeLessThanOrEqual(4000);
    expect(Number(ev.costMicros)).toBe(20 * 5 + ev.outputTokens * 25);
    expect(Number(ev.costMicros)).toBeGreaterThanOrEqual(receivedTokens * 25);
  });

  it('hanging up again and again runs into the hard limit instead of past it', async () => {
    const { secret, projectId } = await project('hangups', '0.03');
    endlessStream();
    const statuses: number[] = [];
    for (let i = 0; i < 12 && !statuses.includes(400); i++) {
      const body = messageBody({ model: OPUS, max_tokens: 400, stream: true });
      const first = await readThenHangUp(gw.url, secret, body, 2048);
      statuses.push(first.startsWith('event:') ? 200 : 400);
      await eventNo(projectId, i + 1); // settled (or refused) before the next one
    }
    expect(statuses).toContain(400);
    const refused = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody({ model: OPUS, max_tokens: 400, stream: true }) });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toMatch(/^You have reached your specified API usage limits/);
    await gw.gateway.flush();
    const row = await t.db.budget.findUniqueOrThrow({ where: { limitId_period: { limitId: projectLimitId(projectId), period: monthPeriod(new Date(), 'Europe/Berlin').key } } });
    expect(Number(row.spentMicros)).toBeLessThanOrEqual(30_000 + 400 * 25 + 1000);
  });

  it('a stream the upstream cuts before its final usage is charged for the deltas it delivered', async () => {
    const { secret, projectId } = await project('upcut');
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse([startEvent(OPUS, 30), ...Array.from({ length: 20 }, () => deltaEvent)]));
      setTimeout(() => res.destroy(), 30);
    };
    const res = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody({ model: OPUS, stream: true, max_tokens: 4000 }) }).catch(() => null);
    expect(res).toBeNull(); // the client sees the stream break
    const ev = await eventNo(projectId, 1);
    expect(ev).toMatchObject({ errorClass: 'upstream_unreachable', inputTokens: 30 });
    expect(ev.outputTokens).toBeGreaterThanOrEqual(20 * TOKENS_PER_CHUNK);
  });

  it('a client that leaves before any byte: a stream pays the input the upstream may have read; after message_start, its input', async () => {
    const { secret, projectId } = await project('early');
    up.handler = () => {}; // still thinking
    const body = messageBody({ model: OPUS, max_tokens: 4000, stream: true });
    const before = up.seen.length;
    const got = await readThenHangUp(gw.url, secret, body, 1, until(() => up.seen.length, (n) => n > before));
    expect(got).toBe('');
    expect(up.seen.length).toBe(before + 1);
    const ev = await eventNo(projectId, 1);
    const estimate = Math.ceil(Buffer.byteLength(body) / 3);
    expect(ev).toMatchObject({ errorClass: 'client_closed', inputTokens: estimate, outputTokens: 0 });
    expect(Number(ev.costMicros)).toBe(estimate * 5);

    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse([startEvent(OPUS, 5000)]));
    };
    await readThenHangUp(gw.url, secret, body, 1);
    const second = await eventNo(projectId, 2);
    expect(second).toMatchObject({ errorClass: 'client_closed', inputTokens: 5000 });
  });

  it('a non-stream answer cut off midway, or left before it came, is charged the whole reservation', async () => {
    const { secret, projectId } = await project('jsoncut');
    up.handler = (_req, res) => {
      const json = JSON.stringify(messageJson(OPUS, { input_tokens: 10, output_tokens: 300 }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(json.slice(0, 60)); // usage comes last and never arrives
    };
    const body = messageBody({ model: OPUS, max_tokens: 300 });
    await readThenHangUp(gw.url, secret, body, 1);
    const ev = await eventNo(projectId, 1);
    const estimate = Math.ceil(Buffer.byteLength(body) / 3);
    expect(ev).toMatchObject({ errorClass: 'client_closed', stream: false, inputTokens: estimate, outputTokens: 300 });
    expect(Number(ev.costMicros)).toBe(estimate * 5 + 300 * 25);

    // Leaving before the answer came: the upstream may still finish (and bill) it.
    up.handler = () => {};
    const before = up.seen.length;
    expect(await readThenHangUp(gw.url, secret, body, 1, until(() => up.seen.length, (n) => n > before))).toBe('');
    expect(await eventNo(projectId, 2)).toMatchObject({ errorClass: 'client_closed', inputTokens: estimate, outputTokens: 300 });
  });

  it('charges web searches per use and long-context rates', async () => {
    const { secret, projectId } = await project('tools');
    up.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(messageJson('claude-sonnet-4-6', { input_tokens: 10, output_tokens: 20, server_tool_use: { web_search_requests: 2 } })));
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() })).status).toBe(200);
    expect(Number((await eventNo(projectId, 1)).costMicros)).toBe(10 * 3 + 20 * 15 + 2 * 10_000);

    up.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(messageJson('claude-sonnet-4-5', { input_tokens: 250_000, output_tokens: 100 })));
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody({ model: 'claude-sonnet-4-5' }) })).status).toBe(200);
    expect(Number((await eventNo(projectId, 2)).costMicros)).toBe(250_000 * 6 + 100 * 22.5);
  });

  it('reserves the fetch floor for a tiny body that makes the upstream fetch its input, and max_uses searches', async () => {
    // Plain tiny request: ~40 tokens x $6 + 10 x $15 ≈ $0.0004. A document by URL: 1,000 (the floor) x $6 + 150 = $0.00615.
    const { secret } = await project('fetch', '0.005');
    const url = { type: 'document', source: { type: 'url', url: 'https://example.com/annual-report.pdf' } };
    const withDoc = messageBody({ max_tokens: 10, messages: [{ role: 'user', content: [url, { type: 'text', text: 'Summarise' }] }] });
    const refused = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: withDoc });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toMatch(/^You have reached your specified API usage limits/);
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody({ max_tokens: 10 }) })).status).toBe(200);

    // $0.01 covers the floor but not the floor and one $0.01 search.
    const { secret: s2 } = await project('search', '0.01');
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: s2, body: withDoc })).status).toBe(200);
    const search = messageBody({ max_tokens: 10, tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }] });
    const noRoom = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: s2, body: search });
    expect(noRoom.status).toBe(400);
    expect(noRoom.json.error.message).toMatch(/^You have reached your specified API usage limits/);
  });
});
