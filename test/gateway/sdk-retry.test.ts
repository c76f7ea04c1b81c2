import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { MODEL, quietLogger, startMockUpstream, testConfig, world, type MockUpstream, type World } from './helpers.js';

describe(`the official SDK obeys keyward's retry hints (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gateway: Gateway;
  let server: http.Server;
  let url: string;
  let w: World;
  /** Requests keyward saw, by path. */
  const seen: string[] = [];

  beforeAll(async () => {
    t = await freshDatabase();
    up = await startMockUpstream();
    gateway = createGateway({
      db: t.db, provider: t.provider, logger: quietLogger(),
      config: testConfig(up.url, { GATEWAY_BODY_MEMORY_MB: '32', GATEWAY_BODY_MEMORY_PER_KEY_MB: '1' }),
    });
    await gateway.start();
    server = http.createServer((req, res) => {
      seen.push(req.url!);
      if (!gateway.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    w = await world(t);
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    await gateway?.stop();
    await up?.close();
    await t?.drop();
  });

  const client = (apiKey: string) => new Anthropic({ baseURL: url, apiKey, maxRetries: 2 });
  const ask = (c: Anthropic, extra: Record<string, unknown> = {}) =>
    c.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }], ...extra } as Anthropic.MessageCreateParamsNonStreaming);

  it('a revoked key: one request, AuthenticationError at once (no retries)', async () => {
    const key = await w.key('sdk');
    await w.services.keys.revoke(w.admin, key.id, 'test');
    seen.length = 0;
    const started = Date.now();
    await expect(ask(client(key.secret))).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    expect(seen).toEqual(['/v1/messages']);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a 429 from the key rate limit is retried after retry-after, and then succeeds', async () => {
    const key = await w.key('sdk', { rpm: 60 }); // one request a second refills
    const c = client(key.secret);
    await ask(c);
    // Use up the key's bucket as a burst of 60 requests would (faster than sending them).
    gateway.internals.rates.bucket(`k:${key.id}:r`, 60, Date.now())!.level = 0;
    seen.length = 0;
    const started = Date.now();
    const msg = await ask(c);
    expect(msg.type).toBe('message');
    expect(seen).toEqual(['/v1/messages', '/v1/messages']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // retry-after: 1
  });

  it('a 529 overloaded answer is retried (x-should-retry: true) up to maxRetries', async () => {
    const key = await w.key('sdk');
    seen.length = 0;
    // Larger than the key's 1 MB share of body memory: keyward answers 529 every time.
    await expect(ask(client(key.secret), { metadata: { user_id: 'x'.repeat(2 * 1024 * 1024) } })).rejects.toMatchObject({ status: 529 });
    expect(seen).toEqual(['/v1/messages', '/v1/messages', '/v1/messages']);
  });
});
