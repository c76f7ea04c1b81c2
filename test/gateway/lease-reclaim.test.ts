import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { monthPeriod } from '../../src/domain/periods.js';
import { projectLimitId } from '../../src/services/limits.js';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import {
  messageBody, messageJson, MODEL, raw, startGatewayServer, startMockUpstream, testConfig, world,
  type GatewayServer, type MockUpstream, type World,
} from './helpers.js';

const TZ = 'Europe/Berlin';
const HARD = 1_000_000; // $1
/** Left of the budget when a test starts: about 35 requests at 1,530 micro-dollars each. */
const LEFT = 60_000;
const PER_REQUEST = 10 * 3 + 100 * 15;

// Two gateway processes on one database, each with its own clock. A replica is "paused" by
// stopping its heartbeat, lease returns and usage flushes while the clocks move past the 15 s
// after which another process reclaims its leases.
describe(`budget leases of a replica that was taken for dead (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let second: Awaited<ReturnType<typeof openDatabase>>;
  let up: MockUpstream;
  let a: GatewayServer;
  let b: GatewayServer;
  let w: World;
  const skew = { a: 0, b: 0 };

  beforeAll(async () => {
    t = await freshDatabase();
    second = await openDatabase(t.url);
    up = await startMockUpstream();
    up.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(messageJson(MODEL, { input_tokens: 10, output_tokens: 100 })));
    a = await startGatewayServer(t, testConfig(up.url), { now: () => new Date(Date.now() + skew.a) });
    b = await startGatewayServer(t, testConfig(up.url), { db: second.db, now: () => new Date(Date.now() + skew.b) });
    w = await world(t);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await second?.close();
    await up?.close();
    await t?.drop();
  });

  const period = () => monthPeriod(new Date(Date.now() + skew.b), TZ).key;
  const send = (g: GatewayServer, key: string) => raw(`${g.url}/v1/messages`, { method: 'POST', key, body: messageBody() });

  /** A project whose $1 budget has only LEFT micro-dollars left. */
  async function project(name: string) {
    const { secret } = await w.key(name);
    const view = await w.limits.set(w.admin, name, ['hard=1']);
    const limitId = projectLimitId(view.projectId!);
    const spentMicros = BigInt(HARD - LEFT);
    await t.db.budget.create({ data: { limitId, period: period(), spentMicros, updatedAt: new Date() } });
    await Promise.all([a.gateway.refresh(), b.gateway.refresh()]);
    return { secret, limitId, projectId: view.projectId! };
  }

  /** The database's view: leasedMicros is the sum of the lease rows, never negative, and spend plus leases stay within the limit. */
  async function expectConsistent(limitId: string, projectId: string) {
    const row = await t.db.budget.findUniqueOrThrow({ where: { limitId_period: { limitId, period: period() } } });
    const leases = await t.db.budgetLease.findMany({ where: { limitId, period: period() } });
    const events = await t.db.usageEvent.aggregate({ where: { projectId }, _sum: { costMicros: true } });
    expect(row.leasedMicros).toBe(leases.reduce((sum, l) => sum + l.amountMicros, 0n));
    expect(row.leasedMicros).toBeGreaterThanOrEqual(0n);
    expect(row.spentMicros - BigInt(HARD - LEFT)).toBe(events._sum.costMicros ?? 0n);
    expect(Number(row.spentMicros + row.leasedMicros)).toBeLessThanOrEqual(HARD);
    return { spent: Number(row.spentMicros), leased: Number(row.leasedMicros), leases };
  }

  function pause(g: GatewayServer) {
    const spies = [
      vi.spyOn(g.gateway.internals.instances, 'beat').mockResolvedValue(undefined),
      vi.spyOn(g.gateway.internals.budgets, 'returnIdle').mockResolvedValue(undefined),
      vi.spyOn(g.gateway.internals.writer, 'flush').mockResolvedValue(undefined),
    ];
    return () => spies.forEach((s) => s.mockRestore());
  }
  const ledger = (g: GatewayServer, limitId: string) => g.gateway.internals.budgets.all.find((l) => l.limitId === limitId && l.period === period())!;

  it('a paused replica that comes back drops its reclaimed lease: no spend past the limit, leases stay consistent', async () => {
    const { secret, limitId, projectId } = await project('paused');
    expect((await send(a, secret)).status).toBe(200);
    expect((await send(b, secret)).status).toBe(200);
    await a.gateway.flush();
    await b.gateway.flush();
    const staleId = a.gateway.instanceId;
    expect(ledger(a, limitId).free).toBeGreaterThan(5 * PER_REQUEST); // a slice worth several requests

    const resume = pause(a);
    skew.a += 16_000;
    skew.b += 16_000;
    await b.gateway.internals.instances.beat(); // B finds A silent and reclaims its leases
    expect(await t.db.budgetLease.count({ where: { instanceId: staleId } })).toBe(0);
    await expectConsistent(limitId, projectId);

    // B spends what is left, A's returned slice included.
    let refusedB = 0;
    for (let i = 0; i < 60 && refusedB === 0; i++) if ((await send(b, secret)).status === 400) refusedB += 1;
    expect(refusedB).toBe(1);
    await b.gateway.flush();
    await expectConsistent(limitId, projectId);

    // A comes back and keeps sending: its old slice is gone, so the budget has nothing for it.
    resume();
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await send(a, secret)).status);
    expect(statuses.every((s) => s === 400)).toBe(true);
    await a.gateway.flush();
    await a.gateway.internals.instances.beat();
    await b.gateway.flush();
    expect(a.gateway.instanceId).not.toBe(staleId); // rejoined under a new id
    const after = await expectConsistent(limitId, projectId);
    expect(after.spent).toBeLessThanOrEqual(HARD);
    expect(ledger(a, limitId).lease).toBe(Number(after.leases.find((l) => l.instanceId === a.gateway.instanceId)?.amountMicros ?? 0n));
  });

  it('a flush and a lease return that land after the reclaim do not give the lease back twice', async () => {
    const { secret, limitId, projectId } = await project('raced');
    skew.a = skew.b;
    expect((await send(a, secret)).status).toBe(200);
    await a.gateway.flush();
    const staleId = a.gateway.instanceId;
    const resume = pause(a);
    // Two more requests settle on A; their spend is still in memory when the reclaim runs.
    expect((await send(a, secret)).status).toBe(200);
    expect((await send(a, secret)).status).toBe(200);
    expect(ledger(a, limitId).settled).toBe(2 * PER_REQUEST);
    skew.b += 16_000; // only B's clock moves: A has not noticed anything yet
    await b.gateway.internals.instances.beat();
    expect(await t.db.budgetLease.count({ where: { instanceId: staleId } })).toBe(0);
    await expectConsistent(limitId, projectId);

    resume();
    await a.gateway.flush(); // its spend counts; the lease it came from was already returned whole
    await expectConsistent(limitId, projectId);
    await a.gateway.internals.budgets.returnIdle(0, period()); // the rest of the old slice is not returned again
    await expectConsistent(limitId, projectId);
    expect(a.gateway.instanceId).not.toBe(staleId);

    skew.a = skew.b;
    expect((await send(a, secret)).status).toBe(200); // leases again under its new id
    await a.gateway.flush();
    const after = await expectConsistent(limitId, projectId);
    expect(after.leases.map((l) => l.instanceId)).toContain(a.gateway.instanceId);
    expect(ledger(a, limitId).lease).toBe(Number(after.leases.find((l) => l.instanceId === a.gateway.instanceId)!.amountMicros));
  });
});
