import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { openDatabase, type Database } from '../../src/db/client.js';

export interface TestDatabase extends Database {
  url: string;
  /** SQLite file path (null on PostgreSQL). */
  file: string | null;
  drop(): Promise<void>;
}

export const usingPostgres = () => Boolean(process.env.TEST_DATABASE_URL);

/** A new, migrated database of its own: SQLite file in a temp dir, or a fresh PostgreSQL database
 *  when TEST_DATABASE_URL is set. */
export async function freshDatabase(): Promise<TestDatabase> {
  const base = process.env.TEST_DATABASE_URL;
  if (base) {
    const name = `kw_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const u = new URL(base);
    u.pathname = `/${name}`;
    const url = u.toString();
    await migrate(url);
    const database = await openDatabase(url);
    return {
      ...database,
      url,
      file: null,
      async drop() {
        await database.close();
        const c = new pg.Client({ connectionString: base });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-test-'));
  const file = path.join(dir, 'keyward.db');
  const url = `file:${file}`;
  await migrate(url);
  const database = await openDatabase(url);
  return {
    ...database,
    url,
    file,
    async drop() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
