// Prisma CLI config for SQLite. Runs offline: JS schema engine + driver adapter (toolchain.md).
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';

/** The wasm engine sends each migration file as one argument-less executeRaw, which better-sqlite3
 *  refuses (P3006): route those to executeScript on the shadow database. */
class SqliteWithScriptShadow extends PrismaBetterSQLite3 {
  override async connectToShadowDb() {
    const adapter = await super.connectToShadowDb();
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      if (query.args.length === 0) {
        await adapter.executeScript(query.sql);
        return 0;
      }
      return executeRaw(query);
    };
    return adapter;
  }
}

function sqliteUrl(): string {
  const url = process.env.DATABASE_URL;
  if (url?.startsWith('file:')) return url.slice('file:'.length);
  return ':memory:';
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(import.meta.dirname, 'sqlite'),
  migrations: { path: path.join(import.meta.dirname, 'sqlite', 'migrations') },
  adapter: async () => new SqliteWithScriptShadow({ url: sqliteUrl() }, { shadowDatabaseUrl: ':memory:' }),
});
