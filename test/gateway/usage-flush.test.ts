import { describe, expect, it } from 'vitest';
import { UsageWriter, type UsageRecord } from '../../src/services/usage.js';
import { usingPostgres, type TestDatabase } from '../helpers/db.js';
import {
  gatewaySuite, messageBody, MODEL, quietLogger, raw, until, wait, type GatewayServer, type MockUpstream, type World,
} from './helpers.js';

const ZERO = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, webSearches: 0 };

describe(`usage accounting cannot be poisoned (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;
  gatewaySuite((s) => ({ t, up, gw, w } = s), { USAGE_QUEUE_MAX: '100' });

  const record = (key: { id: string }, projectId: string, orgId: string, extra: Partial<UsageRecord> = {}): UsageRecord => ({
    orgId, projectId, keyId: key.id, model: MODEL, status: 200, errorClass: null, stream: false,
    usage: { ...ZERO, input: 10, output: 20 }, costMicros: 330, latencyMs: 5, overheadUs: 100, at: new Date(),
    period: new Date().toISOString().slice(0, 7), ...extra,
  });

  it('a model with a NUL byte is refused at admission (400), and later requests are still accounted', async () => {
    const key = await w.key('nul');
    const bad = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: key.secret, body: messageBody({ model: 'claude-sonnet-4-6\u0000x' }) });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ type: 'invalid_request_error' });
    expect(bad.json.error.message).toMatch(/^model: /);
    expect(bad.headers.get('x-should-retry')).toBe('false');
    expect(up.seen.some((s) => s.body.includes('\\u0000'))).toBe(false);
    for (const body of [{ model: undefined }, { model: 42 }, { model: 'a'.repeat(101) }, { model: '../v1/x' }]) {
      const res = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: key.secret, body: messageBody(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const count = await raw(`${gw.url}/v1/messages/count_tokens`, { method: 'POST', key: key.secret, body: messageBody(body) });
      expect(count.status, JSON.stringify(body)).toBe(400);
    }
    const ok = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: key.secret, body: messageBody() });
    expect(ok.status).toBe(200);
    await gw.gateway.flush();
    const events = await t.db.usageEvent.findMany({ where: { keyId: key.id } });
    expect(events.map((e) => e.model)).toEqual([MODEL]);
  });

  it('a batch with rows the database refuses: the rest is written, each bad row is written cleaned and dead-lettered', async () => {
    const key = await w.key('poison');
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    const writer = gw.gateway.internals.writer;
    const before = writer.deadLetters;
    // A NUL byte is refused by PostgreSQL (SQLite stores it); a cost that is not a number fails on both.
    const nul = record(key, row.projectId, row.orgId, { model: 'claude\u0000evil', costMicros: 500 });
    const nan = record(key, row.projectId, row.orgId, { costMicros: Number.NaN });
    const good = Array.from({ length: 9 }, () => record(key, row.projectId, row.orgId));
    for (const r of [...good.slice(0, 4), nul, ...good.slice(4, 7), nan, ...good.slice(7)]) writer.push(r);
    await gw.gateway.flush();
    expect(writer.depth).toBe(0);

    const events = await t.db.usageEvent.findMany({ where: { keyId: key.id } });
    const bad = usingPostgres() ? 2 : 1;
    expect(events).toHaveLength(11);
    expect(events.filter((e) => e.model === MODEL && e.costMicros === 330n)).toHaveLength(9);
    const letters = await t.db.usageDeadLetter.findMany({ where: { keyId: key.id } });
    expect(letters).toHaveLength(bad);
    expect(writer.deadLetters - before).toBe(bad);
    expect(letters.every((l) => l.replaced && l.error.length > 0)).toBe(true);
    if (usingPostgres()) {
      // The cleaned copy keeps the cost (spend still counts) under the model "invalid".
      expect(events.find((e) => e.model === 'invalid')?.costMicros).toBe(500n);
      expect(letters.find((l) => l.event.includes('claude\\u0000evil'))?.costMicros).toBe(500n);
    }
    const daily = await t.db.usageDaily.findMany({ where: { keyId: key.id } });
    expect(daily.reduce((a, d) => a + d.requests, 0)).toBe(11);
    const spent = await t.db.budget.findMany({ where: { limitId: { contains: row.projectId } } });
    // SQLite stores the NUL as it is, PostgreSQL gets the cleaned copy: either way its cost counts.
    expect(spent.reduce((a, b) => a + b.spentMicros, 0n)).toBe(9n * 330n + 500n);

    const metrics = await raw(`${gw.url}/metrics`);
    expect(metrics.text).toMatch(new RegExp(`keyward_gateway_usage_dead_letters_total ${writer.deadLetters}\\n`));
    // Later traffic is accounted as usual.
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: key.secret, body: messageBody() })).status).toBe(200);
    await gw.gateway.flush();
    expect(await t.db.usageEvent.count({ where: { keyId: key.id } })).toBe(12);
    expect(gw.gateway.health()).toBeNull();
  });

  it('models missing from the price table roll up under at most 20 names per org and day, the rest as "other"', async () => {
    const key = await w.key('models');
    const ids = Array.from({ length: 25 }, (_, i) => `vendor-model-${i}`);
    for (const model of ids) {
      expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: key.secret, body: messageBody({ model }) })).status).toBe(200);
    }
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: key.secret, body: messageBody() })).status).toBe(200);
    await gw.gateway.flush();
    const daily = await t.db.usageDaily.findMany({ where: { keyId: key.id } });
    const byModel = new Map(daily.map((d) => [d.model, d.requests]));
    expect(byModel.get(MODEL)).toBe(1); // a priced model always keeps its name
    // Other tests of this org may have used some of the 20 names today: at most 20 in all, the rest folded.
    expect(daily.filter((d) => d.model.startsWith('vendor-model-')).length).toBeLessThanOrEqual(20);
    expect(byModel.get('other')).toBeGreaterThanOrEqual(5);
    expect(daily.reduce((a, d) => a + d.requests, 0)).toBe(26);
    // Raw events keep the exact id.
    expect(await t.db.usageEvent.count({ where: { keyId: key.id, model: 'vendor-model-24' } })).toBe(1);
  });

  it('while the database refuses every write, nothing is dead-lettered, the queue is bounded: new messages get 503 (retryable) and readiness says why', async () => {
    const key = await w.key('backlog');
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    const writer = gw.gateway.internals.writer;
    const max = 100; // USAGE_QUEUE_MAX in gatewaySuite's config below
    const release = await breakUsageTable(t);
    try {
      for (let i = 0; i < max; i++) writer.push(record(key, row.projectId, row.orgId));
      await until(() => writer.depth, (d) => d >= max);
      await wait(300); // several failed flushes
      expect(writer.depth).toBe(max);
      expect(await t.db.usageDeadLetter.count({ where: { keyId: key.id } })).toBe(0);
      const refused = await raw(`${gw.url}/v1/messages`, { method: 'POST', key: key.secret, body: messageBody() });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('x-should-retry')).toBe('true');
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.json.error.type).toBe('api_error');
      expect(gw.gateway.health()).toMatch(/usage backlog/);
      // Routes that record no usage still work.
      expect((await raw(`${gw.url}/v1/models`, { key: key.secret })).status).toBe(200);
    } finally {
      await release();
    }
    await until(() => writer.depth, (d) => d === 0, 10_000);
    expect(await t.db.usageEvent.count({ where: { keyId: key.id } })).toBe(max);
    expect(gw.gateway.health()).toBeNull();
    expect((await raw(`${gw.url}/v1/messages`, { method: 'POST', key: key.secret, body: messageBody() })).status).toBe(200);
  });
});

describe(`readiness follows the usage flush (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let w: World;
  gatewaySuite((s) => ({ t, w } = s));

  it('a flush failing for 30 s makes the writer unhealthy; the next success makes it healthy again', async () => {
    const key = await w.key('ready');
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    let now = Date.now();
    const writer = new UsageWriter(t.db, 'Europe/Berlin', quietLogger(), null, { now: () => now, maxQueue: 1000 });
    writer.push({
      orgId: row.orgId, projectId: row.projectId, keyId: key.id, model: MODEL, status: 200, errorClass: null, stream: false,
      usage: { ...ZERO, input: 1 }, costMicros: 3, latencyMs: 1, overheadUs: 1, at: new Date(), period: new Date().toISOString().slice(0, 7),
    });
    const restore = await breakUsageTable(t);
    try {
      await expect(writer.flush()).rejects.toThrow();
      expect(writer.health()).toBeNull();
      now += 29_000;
      await expect(writer.flush()).rejects.toThrow();
      expect(writer.health()).toBeNull();
      now += 2_000;
      expect(writer.health()).toMatch(/usage flush failing for 31 s/);
    } finally {
      await restore();
    }
    await writer.flush();
    expect(writer.health()).toBeNull();
    expect(writer.depth).toBe(0);
    expect(await t.db.usageEvent.count({ where: { keyId: key.id } })).toBe(1);
  });
});

/** Makes the usage table refuse every insert (a fault not in the rows); the returned function undoes it. */
async function breakUsageTable(t: TestDatabase): Promise<() => Promise<void>> {
  if (t.file) {
    await t.db.$executeRawUnsafe(`CREATE TRIGGER "kw_refuse" BEFORE INSERT ON "UsageEvent" BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    return async () => void (await t.db.$executeRawUnsafe('DROP TRIGGER "kw_refuse"'));
  }
  await t.db.$executeRawUnsafe('ALTER TABLE "UsageEvent" ADD CONSTRAINT "kw_refuse" CHECK (false) NOT VALID');
  return async () => void (await t.db.$executeRawUnsafe('ALTER TABLE "UsageEvent" DROP CONSTRAINT "kw_refuse"'));
}
