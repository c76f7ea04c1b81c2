import type BetterSqlite3 from 'better-sqlite3';
import { sqltag } from '@prisma/client/runtime/client';
import { driverOf, type Db, type Driver } from './client.js';

type SqliteDriver = Extract<Driver, { kind: 'sqlite' }>;

/**
 * Plain SQL on the driver under Prisma, for the gateway's frequent small statements (usage flush,
 * key-change poll, limits refresh, heartbeat): Prisma's query compiler costs the main thread
 * milliseconds per query, the statements themselves microseconds. Placeholders are `$1…$n`, each
 * used once and in order (SQLite gets `?`); clients not made by openDatabase fall back to Prisma's raw queries.
 */
export type Param = string | number | bigint | boolean | null | Date;

const statements = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();
/** A cached prepared statement (better-sqlite3 wants `?` placeholders). */
export function prepared(conn: BetterSqlite3.Database, text: string): BetterSqlite3.Statement {
  let cache = statements.get(conn);
  if (!cache) statements.set(conn, (cache = new Map()));
  let s = cache.get(text);
  if (!s) cache.set(text, (s = conn.prepare(text.replace(/\$\d+/g, '?'))));
  return s;
}

/** Values as Prisma's SQLite adapter stores them (booleans as 0/1, times as ISO-8601 with +00:00). */
const sqliteValue = (v: Param) => (typeof v === 'boolean' ? (v ? 1 : 0) : v instanceof Date ? v.toISOString().replace('Z', '+00:00') : v);
export const sqliteArgs = (params: Param[]) => params.map(sqliteValue);

/** Values for pg: BigInt as text; times as UTC ISO text (the columns are timestamp without time zone). */
const pgValue = (v: Param) => (typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : v);
export const pgArgs = (params: Param[]) => params.map(pgValue);

/** The same statement as a Prisma raw query (Prisma binds the values): for clients without a captured driver. */
export const prismaSql = (text: string, params: Param[]) => sqltag(text.split(/\$\d+/), ...params);

/**
 * Runs `work` in a transaction on Prisma's SQLite connection. The adapter's transaction holds its
 * mutex (no Prisma transaction interleaves); `work` runs synchronously, so no other query of this
 * process can slip into the transaction either.
 */
export async function inSqliteTransaction<T>(driver: SqliteDriver, work: (conn: BetterSqlite3.Database) => T): Promise<T> {
  const tx = await driver.begin();
  try {
    const result = work(driver.conn);
    driver.conn.prepare('COMMIT').run();
    await tx.commit();
    return result;
  } catch (error) {
    if (driver.conn.inTransaction) driver.conn.prepare('ROLLBACK').run();
    await tx.rollback();
    throw error;
  }
}

/**
 * Rows of a read. Numbers come back as the driver gives them (PostgreSQL bigint/count as text):
 * callers convert. On SQLite the read runs at once on Prisma's connection; a read needs no lock.
 */
export async function sqlRows<T>(db: Db, text: string, params: Param[] = []): Promise<T[]> {
  const driver = await driverOf(db);
  if (driver?.kind === 'sqlite') return prepared(driver.conn, text).all(sqliteArgs(params)) as T[];
  if (driver?.kind === 'postgres') return (await driver.pool.query(text, pgArgs(params))).rows as T[];
  return db.$queryRaw<T[]>(prismaSql(text, params));
}

/**
 * A single write; returns the rows changed. On SQLite it takes the adapter's transaction mutex, so
 * it never lands inside (and rolls back with) an interactive Prisma transaction in progress.
 */
export async function sqlRun(db: Db, text: string, params: Param[] = []): Promise<number> {
  const driver = await driverOf(db);
  if (driver?.kind === 'sqlite') return inSqliteTransaction(driver, (conn) => prepared(conn, text).run(sqliteArgs(params)).changes);
  if (driver?.kind === 'postgres') return (await driver.pool.query(text, pgArgs(params))).rowCount ?? 0;
  return db.$executeRaw(prismaSql(text, params));
}
