import { afterAll, beforeAll } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createServices, slackActor, type Services } from '../../src/services/index.js';
import { orgForTeam } from '../../src/services/orgs.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

export const SERVER_SECRET = 'test-server-secret-0123456789abcdefghij';
export const T0 = new Date('2026-11-26T10:00:00.000Z');

/** One fresh database per test file, a controllable clock, and the cast of actors. */
export function serviceWorld() {
  const w = {
    t: undefined as unknown as TestDatabase,
    s: undefined as unknown as Services,
    orgId: '',
    clock: new Date(T0),
    advance(ms: number) {
      w.clock = new Date(w.clock.getTime() + ms);
    },
    /** Slack actors of this org. */
    user(userId: string, orgAdmin = false) {
      return slackActor(w.orgId, userId, orgAdmin);
    },
    get db() {
      return w.t.db;
    },
  };
  beforeAll(async () => {
    w.t = await freshDatabase();
    w.s = createServices({ db: w.t.db, secret: SERVER_SECRET, logger: createLogger('silent'), now: () => w.clock });
    w.orgId = await orgForTeam(w.t.db, 'T_MAIN', w.clock);
  });
  afterAll(async () => w.t?.drop());
  return w;
}

/** Creates a project with an Admin, a Developer and a Viewer (plus the org admin who created it). */
export async function seedProject(w: ReturnType<typeof serviceWorld>, name: string, ids = { admin: 'UADM', dev: 'UDEV', viewer: 'UVIEW' }) {
  const boss = w.user('UBOSS', true);
  await w.s.projects.create(boss, name, `${name} description`);
  await w.s.projects.addMember(boss, name, ids.admin, 'admin');
  await w.s.projects.addMember(boss, name, ids.dev, 'developer');
  await w.s.projects.addMember(boss, name, ids.viewer, 'viewer');
  return { boss, admin: w.user(ids.admin), dev: w.user(ids.dev), viewer: w.user(ids.viewer) };
}

/** Awaits a promise expected to fail with a DomainError of `code`; returns the error. */
export async function rejects(p: Promise<unknown>, code: string): Promise<Error & { code: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { code: string };
    if (err.name !== 'DomainError') throw err;
    if (err.code !== code) throw new Error(`expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  throw new Error(`expected a ${code} DomainError, but it succeeded`);
}
