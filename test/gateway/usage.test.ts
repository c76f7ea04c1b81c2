import { describe, expect, it } from 'vitest';
import { formatZoned, monthPeriod } from '../../src/domain/periods.js';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import {
  messageBody, messageJson, MODEL, raw, sdk, until, startGatewayServer, startMockUpstream, testConfig, world,
  type GatewayServer, type MockUpstream, type World, gatewaySuite
} from './helpers.js';

const TZ = 'Europe/Berlin';

describe(`usage capture and GET /v1/usage (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;
  gatewaySuite((s) => ({ t, up, gw, w } = s));

  it("the brief's snippet works: GET /v1/usage with x-api-key and anthropic-version returns total_tokens", async () => {
    const { secret } = await w.key('snippet', { scope: 'read-only' });
    const res = await fetch(`${gw.url}/v1/usage`, { headers: { 'x-api-key': secret, 'anthropic-version': '2023-06-01' } });
    expect(res.status).toBe(200);
    const usage = (await res.json()) as Record<string, unknown>;
    expect(`Tokens used this month: ${usage['total_tokens']}`).toBe('Tokens used this month: 0');
  });

  it('numbers equal the sum of recorded usage events for the project and month', async () => {
    const { secret } = await w.key('report', { scope: 'full' });
    const other = await w.key('elsewhere');
    up.handler = (req, res, body) => {
      const n = JSON.parse(body).max_tokens as number;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(messageJson(MODEL, {
        input_tokens: n, output_tokens: 2 * n, cache_read_input_tokens: 3 * n, cache_creation_input_tokens: 4 * n,
      })));
    };
    const client = sdk(gw.url, secret);
    for (const n of [5, 7, 11]) await client.messages.create({ model: MODEL, max_tokens: n, messages: [{ role: 'user', content: 'Hi' }] });
    await raw(`${gw.url}/v1/messages`, { method: 'POST', key: other.secret, body: messageBody() }); // another project
    const readOnly = (await w.key('report', { scope: 'read-only' })).secret;
    const denied = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: readOnly, body: messageBody() }); // 403 counts as an error
    expect(denied.status).toBe(403);

    const res = await raw(`${gw.url}/v1/usage`, { key: readOnly });
    expect(res.status).toBe(200);
    const u = res.json;
    const project = (await t.db.project.findFirstOrThrow({ where: { name: 'report' } })).id;
    const period = monthPeriod(new Date(), TZ);
    const events = await t.db.usageEvent.findMany({ where: { projectId: project, createdAt: { gte: period.start, lt: period.end } } });
    const sum = (f: (e: (typeof events)[number]) => number) => events.reduce((a, e) => a + f(e), 0);
    expect(events).toHaveLength(4);
    expect(u).toMatchObject({
      input_tokens: sum((e) => e.inputTokens),
      output_tokens: sum((e) => e.outputTokens),
      cache_read_input_tokens: sum((e) => e.cacheReadTokens),
      cache_creation_input_tokens: sum((e) => e.cacheWriteTokens),
      requests: 4,
      errors: 1,
      cost_usd: sum((e) => Number(e.costMicros)) / 1e6,
      period_start: formatZoned(period.start, TZ),
      period_end: formatZoned(period.end, TZ),
      project: { name: 'report' },
    });
    expect(u.input_tokens).toBe(23);
    expect(u.total_tokens).toBe(23 * (1 + 2 + 3 + 4));
    expect(u.limits).toMatchObject({ hard_usd: null, soft_usd: null, used_fraction: null });

    await w.limits.set(w.admin, 'report', ['hard=0.5']);
    await gw.gateway.refresh();
    const limited = (await raw(`${gw.url}/v1/usage`, { key: readOnly })).json;
    expect(limited.limits).toMatchObject({ hard_usd: 0.5, used_fraction: Math.round((u.cost_usd / 0.5) * 1e6) / 1e6 });
    expect(limited.limits.resets_at).toBe(formatZoned(period.end, TZ));
  });

  it("a project key sees its own project only: no org-wide limits or spend", async () => {
    const { secret } = await w.key('confined', { scope: 'read-only' });
    await w.limits.set(w.admin, 'org', ['hard=4321', 'soft=1234']);
    const period = monthPeriod(new Date(), TZ);
    await t.db.budget.upsert({
      where: { limitId_period: { limitId: `org:${w.orgId}`, period: period.key } },
      create: { limitId: `org:${w.orgId}`, period: period.key, spentMicros: 987_654_321n, updatedAt: new Date() },
      update: { spentMicros: 987_654_321n },
    });
    await gw.gateway.refresh();
    const res = await raw(`${gw.url}/v1/usage`, { key: secret });
    expect(res.status).toBe(200);
    expect(res.json.limits).toMatchObject({ hard_usd: null, soft_usd: null });
    expect(res.json.limits.org).toBeUndefined();
    expect(JSON.stringify(res.json)).not.toMatch(/4321|1234|987\.65/);
  });

  it('usage is written by the background flusher within a second, without being asked', async () => {
    const { secret, id } = await w.key('background');
    await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
    const started = Date.now();
    const n = await until(() => t.db.usageEvent.count({ where: { keyId: id } }), (c) => c === 1, 3000);
    expect(n).toBe(1);
    expect(Date.now() - started).toBeLessThan(1200);
  });

  it('rolls events up per key, project, model and day, and coalesces lastUsedAt', async () => {
    const { secret, id } = await w.key('rollup');
    for (let i = 0; i < 3; i++) await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
    await gw.gateway.flush();
    const rows = await t.db.usageDaily.findMany({ where: { keyId: id } });
    expect(rows).toHaveLength(1);
    const events = await t.db.usageEvent.findMany({ where: { keyId: id } });
    expect(rows[0]).toMatchObject({ model: MODEL, requests: 3, errors: 0 });
    expect(rows[0]!.inputTokens).toBe(BigInt(events.reduce((a, e) => a + e.inputTokens, 0)));
    expect(rows[0]!.costMicros).toBe(events.reduce((a, e) => a + e.costMicros, 0n));
    const key = await t.db.apiKey.findUniqueOrThrow({ where: { id } });
    expect(key.lastUsedAt).not.toBeNull();
  });

  it('prunes raw events past the retention window but keeps the rollup', async () => {
    const { id } = await w.key('retention');
    const old = new Date(Date.now() - 100 * 86_400_000);
    await t.db.usageEvent.create({ data: { id: 'use_old', orgId: w.orgId, projectId: 'p', keyId: id, model: MODEL, status: 200, createdAt: old } });
    const removed = await gw.gateway.internals.writer.prune(new Date(Date.now() - 90 * 86_400_000));
    expect(removed).toBe(1);
    expect(await t.db.usageEvent.count({ where: { id: 'use_old' } })).toBe(0);
  });
});

describe(`shutdown (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  it('stop() drains the request in flight and flushes the buffer: nothing is lost', async () => {
    const t = await freshDatabase();
    const up = await startMockUpstream();
    try {
      const gw = await startGatewayServer(t, testConfig(up.url));
      const w = await world(t);
      const { secret, id } = await w.key('bye');
      await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
      up.handler = (_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(messageJson(MODEL))), 150);
      const slow = raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
      await new Promise((r) => setTimeout(r, 50));
      const stopping = gw.gateway.stop();
      expect((await slow).status).toBe(200);
      await stopping;
      expect(await t.db.usageEvent.count({ where: { keyId: id } })).toBe(2);
      expect(await t.db.gatewayInstance.count({ where: { id: gw.gateway.instanceId } })).toBe(0);
      const after = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });
      expect(after.status).toBe(503);
      await gw.close();
    } finally {
      await up.close();
      await t.drop();
    }
  });
});
