import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { join as sqlJoin } from '@prisma/client/runtime/client';
import { driverOf, type Db } from '../db/client.js';
import { inSqliteTransaction, pgArgs, prepared, prismaSql, sqliteArgs, type Param } from '../db/raw.js';

/**
 * The usage flush's statements, run on the driver under Prisma (its query compiler costs the
 * gateway's main thread far more than the statements themselves). The same SQL on SQLite and
 * PostgreSQL; Prisma raw queries remain for clients that did not come from openDatabase.
 */

export interface EventRow {
  id: string; orgId: string; projectId: string; keyId: string; model: string; status: number;
  errorClass: string | null; stream: boolean; input: number; output: number; cacheRead: number;
  cacheWrite: number; cost: number | bigint; latencyMs: number; overheadUs: number; at: Date;
}
export interface DailyRow {
  day: string; keyId: string; model: string; orgId: string; projectId: string; requests: number; errors: number;
  input: bigint; output: bigint; read: bigint; write: bigint; cost: bigint; split: number[]; latency: bigint;
}
export interface LatencyRow { day: string; projectId: string; orgId: string; bucket: number; count: number }
export interface FlushPlan {
  events: EventRow[];
  daily: DailyRow[];
  latency: LatencyRow[];
  /** Spend added per budget; the new totals come back for the alert trigger. */
  spend: { limitId: string; period: string; cost: bigint }[];
  /** Consumed lease slices of this process that become spend (only while its lease row holds them). */
  leases: { limitId: string; period: string; used: bigint }[];
  /** The holder id of those leases (services/budget.ts). */
  instanceId: string;
  touch: [string, Date][];
  now: Date;
}
export interface SpentAfter { limitId: string; period: string; cost: bigint; afterMicros: bigint }

const COLS = `"id", "orgId", "projectId", "keyId", "model", "status", "errorClass", "stream", "inputTokens", "outputTokens",
  "cacheReadTokens", "cacheWriteTokens", "costMicros", "latencyMs", "overheadUs", "createdAt"`;
const DAILY = `INSERT INTO "UsageDaily" ("day", "keyId", "model", "orgId", "projectId", "requests", "errors",
    "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "costMicros",
    "err401", "err403", "err429", "err5xx", "errOther", "latencyMsSum")
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
  ON CONFLICT ("day", "keyId", "model") DO UPDATE SET ${['requests', 'errors', 'inputTokens', 'outputTokens', 'cacheReadTokens',
    'cacheWriteTokens', 'costMicros', 'err401', 'err403', 'err429', 'err5xx', 'errOther', 'latencyMsSum']
    .map((c) => `"${c}" = "UsageDaily"."${c}" + excluded."${c}"`).join(', ')}`;
const LATENCY = `INSERT INTO "UsageLatencyDaily" ("day", "projectId", "orgId", "bucket", "count") VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT ("day", "projectId", "bucket") DO UPDATE SET "count" = "UsageLatencyDaily"."count" + excluded."count"`;
// RETURNING (SQLite ≥ 3.35 and PostgreSQL) tells the alert trigger which thresholds this flush crossed.
const SPEND = `UPDATE "Budget" SET "spentMicros" = "spentMicros" + $1 WHERE "limitId" = $2 AND "period" = $3 RETURNING "spentMicros"`;
// The lease row first: when another process has reclaimed it (this one was taken for dead), the
// budget already got the whole lease back and its leasedMicros must not move again.
const LEASE_ROW = `UPDATE "BudgetLease" SET "amountMicros" = "amountMicros" - $1, "updatedAt" = $2
  WHERE "limitId" = $3 AND "period" = $4 AND "instanceId" = $5 AND "amountMicros" >= $6`;
const LEASE_BUDGET = `UPDATE "Budget" SET "leasedMicros" = "leasedMicros" - $1 WHERE "limitId" = $2 AND "period" = $3`;
const LAST_USED = `UPDATE "ApiKey" SET "lastUsedAt" = $1 WHERE "id" = $2 AND ("lastUsedAt" IS NULL OR "lastUsedAt" < $3)`;
/** PostgreSQL allows 65,535 parameters per statement; 16 per event. */
const PG_EVENT_CHUNK = 1000;

const eventParams = (e: EventRow): Param[] => [e.id, e.orgId, e.projectId, e.keyId, e.model, e.status, e.errorClass, e.stream,
  e.input, e.output, e.cacheRead, e.cacheWrite, e.cost, e.latencyMs, e.overheadUs, e.at];
const dailyParams = (d: DailyRow): Param[] => [d.day, d.keyId, d.model, d.orgId, d.projectId, d.requests, d.errors,
  d.input, d.output, d.read, d.write, d.cost, ...d.split, d.latency];
const latencyParams = (l: LatencyRow): Param[] => [l.day, l.projectId, l.orgId, l.bucket, l.count];
const leaseRowParams = (l: FlushPlan['leases'][number], plan: FlushPlan): Param[] => [l.used, plan.now, l.limitId, l.period, plan.instanceId, l.used];

/** Writes the plan in one transaction; returns each budget's spend after it. */
export async function writeFlush(db: Db, plan: FlushPlan): Promise<SpentAfter[]> {
  const driver = await driverOf(db);
  if (driver?.kind === 'sqlite') return inSqliteTransaction(driver, (conn) => writeSqlite(conn, plan));
  if (driver?.kind === 'postgres') return writePostgres(driver.pool, plan);
  return writePrisma(db, plan);
}

function writeSqlite(conn: BetterSqlite3.Database, plan: FlushPlan): SpentAfter[] {
  const insert = prepared(conn, `INSERT INTO "UsageEvent" (${COLS}) VALUES (${Array.from({ length: 16 }, (_, i) => `$${i + 1}`).join(', ')})`);
  for (const e of plan.events) insert.run(sqliteArgs(eventParams(e)));
  for (const d of plan.daily) prepared(conn, DAILY).run(sqliteArgs(dailyParams(d)));
  for (const l of plan.latency) prepared(conn, LATENCY).run(sqliteArgs(latencyParams(l)));
  const spent: SpentAfter[] = [];
  for (const b of plan.spend) {
    const row = prepared(conn, SPEND).get([b.cost, b.limitId, b.period]) as { spentMicros: bigint | number } | undefined;
    if (row) spent.push({ ...b, afterMicros: BigInt(row.spentMicros) });
  }
  for (const l of plan.leases) {
    if (prepared(conn, LEASE_ROW).run(sqliteArgs(leaseRowParams(l, plan))).changes === 1) prepared(conn, LEASE_BUDGET).run([l.used, l.limitId, l.period]);
  }
  for (const [id, at] of plan.touch) prepared(conn, LAST_USED).run(sqliteArgs([at, id, at]));
  return spent;
}

async function writePostgres(pool: pg.Pool, plan: FlushPlan): Promise<SpentAfter[]> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    for (let i = 0; i < plan.events.length; i += PG_EVENT_CHUNK) {
      const chunk = plan.events.slice(i, i + PG_EVENT_CHUNK);
      const values = chunk.map((_, r) => `(${Array.from({ length: 16 }, (_, k) => `$${r * 16 + k + 1}`).join(', ')})`).join(', ');
      await c.query(`INSERT INTO "UsageEvent" (${COLS}) VALUES ${values}`, chunk.flatMap((e) => pgArgs(eventParams(e))));
    }
    for (const d of plan.daily) await c.query(DAILY, pgArgs(dailyParams(d)));
    for (const l of plan.latency) await c.query(LATENCY, pgArgs(latencyParams(l)));
    const spent: SpentAfter[] = [];
    for (const b of plan.spend) {
      const { rows } = await c.query<{ spentMicros: string }>(SPEND, pgArgs([b.cost, b.limitId, b.period]));
      if (rows[0]) spent.push({ ...b, afterMicros: BigInt(rows[0].spentMicros) });
    }
    for (const l of plan.leases) {
      if ((await c.query(LEASE_ROW, pgArgs(leaseRowParams(l, plan)))).rowCount === 1) await c.query(LEASE_BUDGET, pgArgs([l.used, l.limitId, l.period]));
    }
    for (const [id, at] of plan.touch) await c.query(LAST_USED, pgArgs([at, id, at]));
    await c.query('COMMIT');
    c.release();
    return spent;
  } catch (error) {
    // A connection whose ROLLBACK failed is not reused.
    await c.query('ROLLBACK').then(() => c.release(), (e: Error) => c.release(e));
    throw error;
  }
}

/** Fallback through Prisma raw queries (same SQL) for clients without a captured driver. */
async function writePrisma(db: Db, plan: FlushPlan): Promise<SpentAfter[]> {
  return db.$transaction(async (tx) => {
    for (let i = 0; i < plan.events.length; i += 64) {
      const rows = plan.events.slice(i, i + 64).map((e) => prismaSql(`(${Array(16).fill('$0').join(', ')})`, eventParams(e)));
      await tx.$executeRaw`INSERT INTO "UsageEvent" ("id", "orgId", "projectId", "keyId", "model", "status", "errorClass",
        "stream", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "costMicros", "latencyMs",
        "overheadUs", "createdAt") VALUES ${sqlJoin(rows)}`;
    }
    for (const d of plan.daily) await tx.$executeRaw(prismaSql(DAILY, dailyParams(d)));
    for (const l of plan.latency) await tx.$executeRaw(prismaSql(LATENCY, latencyParams(l)));
    const spent: SpentAfter[] = [];
    for (const b of plan.spend) {
      const [row] = await tx.$queryRaw<{ spentMicros: bigint | number }[]>(prismaSql(SPEND, [b.cost, b.limitId, b.period]));
      if (row) spent.push({ ...b, afterMicros: BigInt(row.spentMicros) });
    }
    for (const l of plan.leases) {
      if ((await tx.$executeRaw(prismaSql(LEASE_ROW, leaseRowParams(l, plan)))) === 1) await tx.$executeRaw(prismaSql(LEASE_BUDGET, [l.used, l.limitId, l.period]));
    }
    for (const [id, at] of plan.touch) await tx.$executeRaw(prismaSql(LAST_USED, [at, id, at]));
    return spent;
  });
}
