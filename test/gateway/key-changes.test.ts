import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { markKeyChanged } from '../../src/services/key-changes.js';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import {
  messageBody, raw, startGatewayServer, startMockUpstream, testConfig, until, wait, world,
  type GatewayServer, type MockUpstream, type World,
} from './helpers.js';

// Two gateway replicas on one database, each on its own connection(s). On PostgreSQL the late
// transaction runs on a client of its own; on SQLite it shares gateway A's connection, because a
// held write lock on another connection of this process would stall the event loop in SQLite's
// busy wait (writers are serialised there anyway, so no id can commit out of order).
describe(`the key-change feed reaches every replica (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let writer: Pick<TestDatabase, 'db' | 'close'>;
  let replica: Awaited<ReturnType<typeof openDatabase>>;
  let up: MockUpstream;
  let a: GatewayServer;
  let b: GatewayServer;
  let w: World;
  /** Gateway A's clock runs ahead by this much (a late commit looks old to it). */
  let ahead = 0;

  beforeAll(async () => {
    t = await freshDatabase();
    writer = usingPostgres() ? await openDatabase(t.url) : { db: t.db, close: async () => {} };
    replica = await openDatabase(t.url);
    up = await startMockUpstream();
    a = await startGatewayServer(t, testConfig(up.url), { now: () => new Date(Date.now() + ahead) });
    b = await startGatewayServer(t, testConfig(up.url), { db: replica.db });
    w = await world(t);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await writer?.close();
    await replica?.close();
    await up?.close();
    await t?.drop();
  });

  const send = (g: GatewayServer, key: string) => raw(`${g.url}/v1/messages`, { method: 'POST', key, body: messageBody() });

  it('a revocation reaches another replica within a second', async () => {
    const { id, secret } = await w.key('feed', { name: 'replicated' });
    expect((await send(b, secret)).status).toBe(200); // cached on B
    await w.services.keys.revoke(w.admin, id, 'test');
    const revokedAt = Date.now();
    const res = await until(() => send(b, secret), (r) => r.status === 401, 3000);
    expect(res.status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    await b.close(); // no more writes from B's connection (see above)
  });

  it('a key change that commits after a later one was already read is still seen', async () => {
    const { id, secret } = await w.key('feed', { name: 'late' });
    const other = (await w.key('feed', { name: 'bystander' })).id;
    await a.gateway.refresh();
    expect((await send(a, secret)).status).toBe(200); // cached on A
    await a.gateway.flush();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    // The revocation appends its KeyChange first and then stays open.
    const late = writer.db.$transaction(async (tx) => {
      await tx.apiKey.update({ where: { id }, data: { status: 'revoked', revokedAt: new Date(), revokeReason: 'late' } });
      await markKeyChanged(tx, id, new Date());
      entered();
      await gate;
    }, { timeout: 20_000 });
    await inside;
    // Another key change meanwhile: were ids not taken in commit order, it would commit at once
    // with the larger id and A's poll would move past the revocation's id.
    const later = writer.db.$transaction((tx) => markKeyChanged(tx, other, new Date()), { maxWait: 20_000 });
    await Promise.race([later, wait(300)]);
    await a.gateway.refresh();
    ahead = 11_000; // the revocation now commits "late": its timestamp is past any look-back window
    release();
    await late;
    await later;
    await a.gateway.refresh();
    const res = await send(a, secret);
    expect(res.status).toBe(401);
    expect(res.json.error.message).toContain('revoked');
    // Every change is in the feed, in commit order.
    const ids = (await t.db.keyChange.findMany({ where: { keyId: { in: [id, other] } }, orderBy: { id: 'asc' } })).map((c) => c.keyId);
    expect(ids.slice(-2)).toEqual([id, other]);
  });
});
