import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { formatZoned, monthPeriod } from '../../src/domain/periods.js';
import { orgLimitId, projectLimitId } from '../../src/services/limits.js';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import {
  defaultHandler, messageBody, messageJson, MODEL, raw, sse, startGatewayServer, startMockUpstream, streamEvents, testConfig, wait,
  world, type GatewayServer, type MockUpstream, type World, gatewaySuite
} from './helpers.js';

const TZ = 'Europe/Berlin';
const period = () => monthPeriod(new Date(), TZ).key;

async function budgetRow(t: TestDatabase, limitId: string) {
  return t.db.budget.findUnique({ where: { limitId_period: { limitId, period: period() } } });
}

/** Worst case of messageBody(): input estimate at the dearest input rate ($6/MTok 1h cache write) + max_tokens at $15. */
const worstCase = (maxTokens = 100, body = messageBody({ max_tokens: maxTokens })) => Math.ceil(Buffer.byteLength(body) / 3) * 6 + maxTokens * 15;

describe(`hard spend limits with reservations (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let gw: GatewayServer;
  let w: World;
  gatewaySuite((s) => ({ t, up, gw, w } = s));
  beforeEach(() => {
    up.handler = defaultHandler;
  });

  async function project(name: string, hard: string) {
    const { secret } = await w.key(name);
    const view = await w.limits.set(w.admin, name, [`hard=${hard}`]);
    await gw.gateway.refresh();
    return { secret, projectId: view.projectId! };
  }
  const send = (key: string, extra: Record<string, unknown> = {}) =>
    raw(`${gw.url}/v1/messages`, { method: 'POST', key, body: messageBody(extra) });
  const ledgerOf = (limitId: string) => gw.gateway.internals.budgets.all.find((l) => l.limitId === limitId && l.period === period())!;

  it('refuses a request whose worst case (max_tokens) the budget cannot cover: 400 naming project and reset time', async () => {
    const { secret } = await project('tight', '0.01');
    const res = await send(secret, { max_tokens: 1000 }); // 15,000 micro-dollars of output alone > $0.01
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(res.json.error.message).toMatch(/^You have reached your specified API usage limits/);
    expect(res.json.error.message).toContain('project "tight"');
    expect(res.json.error.message).toContain(formatZoned(monthPeriod(new Date(), TZ).end, TZ));
    expect(up.seen.filter((s) => s.body.includes('"max_tokens":1000'))).toHaveLength(0);
    // A small request still fits.
    expect((await send(secret, { max_tokens: 10 })).status).toBe(200);
  });

  it('settles the reservation to the real cost from usage', async () => {
    const { secret, projectId } = await project('settle', '1');
    expect((await send(secret)).status).toBe(200);
    const l = ledgerOf(projectLimitId(projectId));
    expect(l.reserved).toBe(0);
    expect(l.settled + l.flushing).toBeLessThanOrEqual(330); // the background flusher may already have taken it
    await gw.gateway.flush();
    expect((await budgetRow(t, projectLimitId(projectId)))!.spentMicros).toBe(330n); // 10*3 + 20*15
    expect(l.settled).toBe(0);
  });

  it('releases the reservation when upstream fails with 500', async () => {
    const { secret, projectId } = await project('fails', '1');
    up.handler = (_req, res) => res.writeHead(500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'boom' } }));
    const res = await send(secret);
    expect(res.status).toBe(500);
    expect(ledgerOf(projectLimitId(projectId)).reserved).toBe(0);
    await gw.gateway.flush();
    expect((await budgetRow(t, projectLimitId(projectId)))?.spentMicros ?? 0n).toBe(0n);
    const ev = await t.db.usageEvent.findFirstOrThrow({ where: { projectId } });
    expect(ev).toMatchObject({ status: 500, errorClass: 'upstream_5xx' });
    expect(ev.costMicros).toBe(0n);
  });

  it('a stream cut off midway settles to the usage seen so far', async () => {
    const { secret, projectId } = await project('cut', '1');
    const events = streamEvents(MODEL, 50, 7);
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse([...events.slice(0, 4), events[6]!]));
      setTimeout(() => res.destroy(), 30);
    };
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST', body: messageBody({ stream: true }),
      headers: { 'x-api-key': secret, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow(); // the client sees the stream break
    await wait(50);
    expect(ledgerOf(projectLimitId(projectId)).reserved).toBe(0);
    await gw.gateway.flush();
    expect((await budgetRow(t, projectLimitId(projectId)))!.spentMicros).toBe(BigInt(50 * 3 + 7 * 15));
    const ev = await t.db.usageEvent.findFirstOrThrow({ where: { projectId } });
    expect(ev).toMatchObject({ inputTokens: 50, outputTokens: 7, errorClass: 'upstream_unreachable', stream: true });
  });

  it('under concurrency the spend never passes the hard limit by more than one reservation', async () => {
    const hard = 20_000;
    const { secret, projectId } = await project('crowd', '0.02');
    // Each answer uses all of max_tokens: real cost close to the reservation.
    up.handler = (_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(messageJson(MODEL, { input_tokens: 10, output_tokens: 100 }))), 20);
    const results = await Promise.all(Array.from({ length: 60 }, () => send(secret)));
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 400);
    expect(ok).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.json.error.message).toMatch(/^You have reached your specified API usage limits/);
    await gw.gateway.flush();
    const spent = Number((await budgetRow(t, projectLimitId(projectId)))!.spentMicros);
    expect(spent).toBe(ok * (10 * 3 + 100 * 15));
    expect(spent).toBeLessThanOrEqual(hard + worstCase());
  });

  it('fails closed with 503 api_error (not a spend-limit message) when the budget cannot be leased', async () => {
    const { secret } = await project('dbdown', '1');
    vi.spyOn(gw.gateway.internals.budgets as unknown as { acquire: () => Promise<boolean> }, 'acquire').mockRejectedValue(new Error('db down'));
    const before = up.seen.length;
    const res = await send(secret);
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(up.seen.length).toBe(before);
  });

  it('an org-wide hard limit applies to every project', async () => {
    const { secret } = await w.key('orgwide');
    await w.limits.set(w.admin, 'org', ['hard=0.001']);
    await gw.gateway.refresh();
    try {
      const res = await send(secret);
      expect(res.status).toBe(400);
      expect(res.json.error.message).toMatch(/^You have reached your specified API usage limits for your organisation \(project "orgwide"\): its monthly hard limit is spent\. You will regain access on /);
      expect(res.json.error.message).not.toContain('$'); // the org-wide amount is for org admins
    } finally {
      await w.limits.set(w.admin, 'org', ['hard=none']);
      await gw.gateway.refresh();
    }
    expect((await send(secret)).status).toBe(200);
    await gw.gateway.flush();
    expect((await budgetRow(t, orgLimitId(w.orgId)))!.spentMicros).toBeGreaterThan(0n);
  });
});

// Two gateway processes on one database. On PostgreSQL (TEST_DATABASE_URL set) this is the
// multi-replica setup the design targets; on SQLite it is two clients on one file.
describe(`two gateway instances share one budget (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: MockUpstream;
  let a: GatewayServer;
  let b: GatewayServer;
  let second: Awaited<ReturnType<typeof openDatabase>>;
  let w: World;

  beforeAll(async () => {
    t = await freshDatabase();
    second = await openDatabase(t.url);
    up = await startMockUpstream();
    a = await startGatewayServer(t, testConfig(up.url));
    b = await startGatewayServer(t, testConfig(up.url), { db: second.db });
    w = await world(t);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await second?.close();
    await up?.close();
    await t?.drop();
  });

  it('never lets the two together spend past the limit, and leaves nothing stranded when one stops', async () => {
    const hard = 30_000;
    const perRequest = 10 * 3 + 100 * 15;
    up.handler = (_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(messageJson(MODEL, { input_tokens: 10, output_tokens: 100 }))), 10);
    const { secret } = await w.key('shared');
    const view = await w.limits.set(w.admin, 'shared', ['hard=0.03']);
    const limitId = projectLimitId(view.projectId!);
    await Promise.all([a.gateway.refresh(), b.gateway.refresh()]);
    const send = (g: GatewayServer) => raw(`${g.url}/v1/messages`, { method: 'POST', key: secret, body: messageBody() });

    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i % 2 ? a : b)));
    const okA = first.filter((r, i) => i % 2 && r.status === 200).length;
    const okB = first.filter((r, i) => !(i % 2) && r.status === 200).length;
    expect(okA).toBeGreaterThan(0);
    expect(okB).toBeGreaterThan(0);
    expect(first.some((r) => r.status === 400)).toBe(true);

    // A stops: its unused slice goes back to the budget and B can spend it.
    await a.close();
    let last;
    for (let i = 0; i < 40; i++) {
      last = await send(b);
      if (last.status !== 200) break;
    }
    expect(last!.status).toBe(400);
    await b.gateway.flush();
    const row = (await t.db.budget.findUniqueOrThrow({ where: { limitId_period: { limitId, period: period() } } }));
    const spent = Number(row.spentMicros);
    const events = await t.db.usageEvent.aggregate({ where: { projectId: view.projectId! }, _sum: { costMicros: true } });
    expect(Number(events._sum.costMicros)).toBe(spent);
    expect(spent).toBeLessThanOrEqual(hard + worstCase());
    // Nothing stranded: only B holds a lease, and B was refused only because what is left
    // (its own unused slice included) cannot cover one more reservation.
    expect(Number(row.leasedMicros)).toBe(b.gateway.internals.budgets.all.find((l) => l.limitId === limitId)!.lease);
    expect(hard - spent).toBeLessThan(worstCase());
    expect(spent % perRequest).toBe(0);
    expect(await t.db.budgetLease.count({ where: { instanceId: a.gateway.instanceId } })).toBe(0);
  });
});
