import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { SqlDriverAdapter, Transaction } from '@prisma/driver-adapter-utils';
import type { PrismaClient as SqliteClient } from './generated/sqlite/client.js';
import { isPostgresUrl } from '../config/index.js';
import { sqlitePath } from './migrate.js';

/**
 * Both generated clients come from the same models, so they expose the same API; the SQLite
 * client's type stands for both.
 */
export type Db = SqliteClient;
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];
export type Provider = 'sqlite' | 'postgres';

export interface Database {
  db: Db;
  provider: Provider;
  close(): Promise<void>;
}

/**
 * The driver under a client, captured when Prisma connects: the usage flush runs its statements on
 * it directly, skipping Prisma's query compiler on the gateway's main thread. On SQLite it shares
 * Prisma's one connection and takes a transaction through the adapter (so its mutex serialises both).
 */
export type Driver =
  | { kind: 'sqlite'; conn: BetterSqlite3.Database; begin: () => Promise<Transaction> }
  | { kind: 'postgres'; pool: pg.Pool };
const drivers = new WeakMap<object, { current?: Driver }>();

/** The client's driver (connecting first if needed); undefined for clients not made by openDatabase. */
export async function driverOf(db: Db): Promise<Driver | undefined> {
  const holder = drivers.get(db);
  if (holder && !holder.current) await db.$connect();
  return holder?.current;
}

function capture<A>(factory: { connect(): Promise<A> }, holder: { current?: Driver }, driver: (a: A) => Driver) {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    holder.current = driver(adapter);
    return adapter;
  };
}

/** Loads only the chosen provider's client and driver: the other would cost memory for nothing. */
export async function openDatabase(databaseUrl: string): Promise<Database> {
  if (isPostgresUrl(databaseUrl)) {
    const [{ PrismaPg }, { PrismaClient }] = await Promise.all([
      import('@prisma/adapter-pg'),
      import('./generated/postgres/client.js'),
    ]);
    const adapter = new PrismaPg({ connectionString: databaseUrl, max: 10 });
    const holder: { current?: Driver } = {};
    capture(adapter, holder, (a) => ({ kind: 'postgres', pool: a.underlyingDriver() }));
    const db = new PrismaClient({ adapter }) as unknown as Db;
    drivers.set(db, holder);
    return { db, provider: 'postgres', close: () => db.$disconnect() };
  }
  const [{ PrismaBetterSQLite3 }, { PrismaClient }] = await Promise.all([
    import('@prisma/adapter-better-sqlite3'),
    import('./generated/sqlite/client.js'),
  ]);
  // WAL (set by the migrator) + a busy timeout let the CLI write while the server runs.
  const adapter = new PrismaBetterSQLite3({ url: sqlitePath(databaseUrl), timeout: 10_000 });
  const holder: { current?: Driver } = {};
  capture(adapter, holder, (a) => {
    const conn = (a as unknown as { client: BetterSqlite3.Database }).client;
    return { kind: 'sqlite', conn, begin: () => (a as SqlDriverAdapter).startTransaction() };
  });
  const db = new PrismaClient({ adapter });
  drivers.set(db, holder);
  return { db, provider: 'sqlite', close: () => db.$disconnect() };
}

export * from './generated/sqlite/enums.js';
