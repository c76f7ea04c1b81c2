import { describe, expect, it } from 'vitest';
import { slackActor } from '../../src/services/index.js';
import { usingPostgres, type TestDatabase } from '../helpers/db.js';
import { defaultHandler, messageBody, messageJson, MODEL, raw, type GatewayServer, type MockUpstream, type World, gatewaySuite } from './helpers.js';

describe(`limits service and rate limits (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;
  gatewaySuite((s) => ({ t, up, gw, w } = s));

  const send = (key: string, body = messageBody()) => raw(`${gw.url}/v1/messages`, { method: 'POST', key, body });

  it('project Admins set their project limits; Developers cannot; only org admins set org limits; all audited', async () => {
    await w.services.projects.create(w.admin, 'lim');
    await w.services.projects.addMember(w.admin, 'lim', 'U0ADMIN1', 'admin');
    await w.services.projects.addMember(w.admin, 'lim', 'U0DEV001', 'developer');
    const admin = slackActor(w.orgId, 'U0ADMIN1', false);
    const dev = slackActor(w.orgId, 'U0DEV001', false);

    const view = await w.limits.set(admin, 'lim', ['hard=250.50', 'rpm=60', 'itpm=none']);
    expect(view).toMatchObject({ target: 'project', name: 'lim', hardMicros: 250_500_000n, rpm: 60, itpm: null, spentMicros: 0n, usedFraction: 0 });
    await expect(w.limits.set(dev, 'lim', ['rpm=1000'])).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.limits.set(admin, 'org', ['hard=10'])).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.limits.set(admin, 'lim', ['burst=3'])).rejects.toMatchObject({ code: 'invalid' });
    expect((await w.limits.show(dev, 'lim')).rpm).toBe(60);

    const org = await w.limits.set(w.admin, 'org', { hardMicros: 1_000_000_000n });
    expect(org).toMatchObject({ target: 'org', hardMicros: 1_000_000_000n });
    await w.limits.set(w.admin, 'org', ['hard=none']);

    const events = await t.db.auditEvent.findMany({ where: { action: 'limits.set' }, orderBy: { createdAt: 'asc' } });
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[0]!.details)).toMatchObject({ target: 'lim', changes: { hard: '$250.50', rpm: 60, itpm: null } });
    expect(events[0]!.actor).toBe('slack:U0ADMIN1');
  });

  it('key rpm: a token bucket answers 429 rate_limit_error with retry-after and anthropic-ratelimit headers', async () => {
    const { secret } = await w.key('rpm', { rpm: 2 });
    expect((await send(secret)).status).toBe(200);
    expect((await send(secret)).status).toBe(200);
    const res = await send(secret);
    expect(res.status).toBe(429);
    expect(res.json).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(res.json.error.message).toContain('2 requests per minute');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    expect(res.headers.get('anthropic-ratelimit-requests-limit')).toBe('2');
    expect(res.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(res.headers.get('anthropic-ratelimit-requests-reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Another key of the same project is not affected by this key's limit.
    expect((await send((await w.key('rpm')).secret)).status).toBe(200);
  });

  it('project rpm applies across all keys of the project', async () => {
    const k1 = (await w.key('prpm')).secret;
    const k2 = (await w.key('prpm')).secret;
    await w.limits.set(w.admin, 'prpm', ['rpm=3']);
    await gw.gateway.refresh();
    const statuses = [];
    for (const k of [k1, k2, k1, k2]) statuses.push((await send(k)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('project input tokens per minute: charged by estimate, corrected to real usage; 429 input-tokens when used up', async () => {
    const { secret } = await w.key('itpm');
    await w.limits.set(w.admin, 'itpm', ['itpm=100']);
    await gw.gateway.refresh();
    up.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(messageJson(MODEL, { input_tokens: 200, output_tokens: 5 })));
    try {
      // Larger than the whole bucket: admitted on a full bucket instead of never.
      const big = messageBody({ messages: [{ role: 'user', content: 'x'.repeat(600) }] });
      expect((await send(secret, big)).status).toBe(200);
      const res = await send(secret); // the bucket now owes the real 200 tokens
      expect(res.status).toBe(429);
      expect(res.json.error.type).toBe('rate_limit_error');
      expect(res.headers.get('anthropic-ratelimit-input-tokens-limit')).toBe('100');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(60);
    } finally {
      up.handler = defaultHandler;
    }
  });

  it('project output tokens per minute: once the bucket is used up by real output, requests wait', async () => {
    const { secret } = await w.key('otpm');
    await w.limits.set(w.admin, 'otpm', ['otpm=30']);
    await gw.gateway.refresh();
    expect((await send(secret)).status).toBe(200); // 20 output tokens
    expect((await send(secret)).status).toBe(200); // 10 left → admitted, uses 20
    const res = await send(secret);
    expect(res.status).toBe(429);
    expect(res.headers.get('anthropic-ratelimit-output-tokens-limit')).toBe('30');
  });

  it('with several live gateway processes each enforces its share of the limit', async () => {
    const { secret } = await w.key('split');
    await w.limits.set(w.admin, 'split', ['rpm=4']);
    await gw.gateway.refresh();
    // Pretend a second process is alive (heartbeat table), then let this one notice.
    await t.db.gatewayInstance.create({ data: { id: 'gw_other', startedAt: new Date(), heartbeatAt: new Date() } });
    await gw.gateway.internals.instances.beat();
    try {
      expect(gw.gateway.internals.instances.live).toBe(2);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await send(secret)).status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await t.db.gatewayInstance.delete({ where: { id: 'gw_other' } });
      await gw.gateway.internals.instances.beat();
    }
    expect(gw.gateway.internals.instances.live).toBe(1);
  });

  it('leases of a gateway that stopped heartbeating are returned to the budget', async () => {
    const long = new Date(Date.now() - 60_000);
    await t.db.gatewayInstance.create({ data: { id: 'gw_dead', startedAt: long, heartbeatAt: long } });
    await t.db.budget.create({ data: { limitId: 'prj:dead', period: '2026-11', leasedMicros: 5000n, spentMicros: 100n, updatedAt: long } });
    await t.db.budgetLease.create({ data: { limitId: 'prj:dead', period: '2026-11', instanceId: 'gw_dead', amountMicros: 5000n, updatedAt: long } });
    await gw.gateway.internals.instances.beat();
    const row = await t.db.budget.findUniqueOrThrow({ where: { limitId_period: { limitId: 'prj:dead', period: '2026-11' } } });
    expect(row).toMatchObject({ leasedMicros: 0n, spentMicros: 100n });
    expect(await t.db.budgetLease.count({ where: { instanceId: 'gw_dead' } })).toBe(0);
    expect(await t.db.gatewayInstance.count({ where: { id: 'gw_dead' } })).toBe(0);
  });

  it('a gateway that another process took for dead registers itself again (under a new id) on its next heartbeat', async () => {
    const id = gw.gateway.instanceId;
    await t.db.gatewayInstance.delete({ where: { id } });
    await gw.gateway.internals.instances.beat();
    expect(gw.gateway.instanceId).not.toBe(id);
    const row = await t.db.gatewayInstance.findUniqueOrThrow({ where: { id: gw.gateway.instanceId } });
    expect(Date.now() - row.heartbeatAt.getTime()).toBeLessThan(5_000);
    expect(gw.gateway.internals.instances.live).toBe(1);
  });
});
