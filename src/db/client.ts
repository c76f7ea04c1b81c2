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

/** Loads only the chosen provider's client and driver: the other would cost memory for nothing. */
export async function openDatabase(databaseUrl: string): Promise<Database> {
  if (isPostgresUrl(databaseUrl)) {
    const [{ PrismaPg }, { PrismaClient }] = await Promise.all([
      import('@prisma/adapter-pg'),
      import('./generated/postgres/client.js'),
    ]);
    const adapter = new PrismaPg({ connectionString: databaseUrl, max: 10 });
    const db = new PrismaClient({ adapter }) as unknown as Db;
    return { db, provider: 'postgres', close: () => db.$disconnect() };
  }
  const [{ PrismaBetterSQLite3 }, { PrismaClient }] = await Promise.all([
    import('@prisma/adapter-better-sqlite3'),
    import('./generated/sqlite/client.js'),
  ]);
  // WAL (set by the migrator) + a busy timeout let the CLI write while the server runs.
  const adapter = new PrismaBetterSQLite3({ url: sqlitePath(databaseUrl), timeout: 10_000 });
  const db = new PrismaClient({ adapter });
  return { db, provider: 'sqlite', close: () => db.$disconnect() };
}

export * from './generated/sqlite/enums.js';
