// db/raw.ts runs the gateway's frequent statements on the driver under Prisma; a client without a
// captured driver goes through Prisma's raw queries instead. Both must read and write the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/client.js';
import { sqlRows, sqlRun } from '../src/db/raw.js';
import { freshDatabase, usingPostgres, type TestDatabase } from './helpers/db.js';

/** A second client on the same database, made without openDatabase (so no driver is captured). */
async function plainClient(t: TestDatabase): Promise<Db> {
  if (usingPostgres()) {
    const [{ PrismaPg }, { PrismaClient }] = await Promise.all([import('@prisma/adapter-pg'), import('../src/db/generated/postgres/client.js')]);
    return new PrismaClient({ adapter: new PrismaPg({ connectionString: t.url }) }) as unknown as Db;
  }
  const [{ PrismaBetterSQLite3 }, { PrismaClient }] = await Promise.all([import('@prisma/adapter-better-sqlite3'), import('../src/db/generated/sqlite/client.js')]);
  return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: t.file!, timeout: 10_000 }) });
}

const COUNTS = 'SELECT SUM(CASE WHEN "heartbeatAt" >= $1 THEN 1 ELSE 0 END) AS "live", COUNT(*) AS "all" FROM "GatewayInstance"';

describe(`plain SQL on the driver and through Prisma (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let plain: Db;
  beforeAll(async () => {
    t = await freshDatabase();
    plain = await plainClient(t);
  });
  afterAll(async () => {
    await plain?.$disconnect();
    await t?.drop();
  });

  it('writes times both ways that compare correctly in SQL and read back exactly', async () => {
    const old = new Date('2026-11-26T09:00:00.000Z');
    await t.db.gatewayInstance.createMany({ data: [
      { id: 'gw_a', startedAt: old, heartbeatAt: old },
      { id: 'gw_b', startedAt: old, heartbeatAt: old },
    ] });
    const fresh = new Date('2026-11-26T10:00:00.123Z');
    expect(await sqlRun(t.db, 'UPDATE "GatewayInstance" SET "heartbeatAt" = $1 WHERE "id" = $2', [fresh, 'gw_a'])).toBe(1);
    expect(await sqlRun(plain, 'UPDATE "GatewayInstance" SET "heartbeatAt" = $1 WHERE "id" = $2', [fresh, 'gw_b'])).toBe(1);
    expect(await sqlRun(plain, 'UPDATE "GatewayInstance" SET "heartbeatAt" = $1 WHERE "id" = $2', [fresh, 'gw_none'])).toBe(0);

    const rows = await t.db.gatewayInstance.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((r) => r.heartbeatAt.toISOString())).toEqual([fresh.toISOString(), fresh.toISOString()]);

    const cutoff = new Date('2026-11-26T10:00:00.000Z');
    for (const db of [t.db, plain]) {
      const [c] = await sqlRows<{ live: unknown; all: unknown }>(db, COUNTS, [cutoff]);
      expect([Number(c!.live), Number(c!.all)]).toEqual([2, 2]);
      const [later] = await sqlRows<{ live: unknown }>(db, COUNTS, [new Date('2026-11-26T10:00:01.000Z')]);
      expect(Number(later!.live ?? 0)).toBe(0);
    }
  });
});
