import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, usingPostgres, type TestDatabase } from './helpers/db.js';
import { createRequire } from 'node:module';
import { migrate } from '../src/db/migrate.js';

describe(`database (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase();
  });
  afterAll(async () => t?.drop());

  it('applies every migration once and is idempotent', async () => {
    expect(await migrate(t.url)).toEqual([]);
    const rows = await t.db.$queryRawUnsafe<{ migration_name: string }[]>(
      'SELECT migration_name FROM _prisma_migrations',
    );
    expect(rows.length).toBeGreaterThan(0);
  });

  it('round-trips models with enums and times', async () => {
    const now = new Date('2026-11-26T10:00:00.000Z');
    await t.db.org.create({ data: { id: 'org_1', createdAt: now } });
    await t.db.project.create({ data: { id: 'prj_1', orgId: 'org_1', name: 'demo', createdBy: 'U1', createdAt: now } });
    const p = await t.db.project.findUniqueOrThrow({ where: { orgId_name: { orgId: 'org_1', name: 'demo' } } });
    expect(p.createdAt.toISOString()).toBe(now.toISOString());
    expect(p.approvalPolicy).toBe('prod');
  });
});

describe('one SQLite library per process', () => {
  it('Prisma\'s adapter and the migrator load the same better-sqlite3 (two copies break each other\'s file locks)', () => {
    const require = createRequire(import.meta.url);
    const adapterRequire = createRequire(require.resolve('@prisma/adapter-better-sqlite3'));
    expect(adapterRequire.resolve('better-sqlite3')).toBe(require.resolve('better-sqlite3'));
  });
});
