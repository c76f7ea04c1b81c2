import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import type { TestDatabase } from '../helpers/db.js';

export const SECRET = 'cli-test-secret-0123456789abcdefghijklmnop';
export const START = new Date('2026-11-26T10:00:00.000Z');

/** A folder without a .env, so a developer's own .env never leaks into tests. */
export const emptyCwd = () => mkdtempSync(path.join(tmpdir(), 'kw-cli-'));

export interface Run {
  code: number;
  out: string;
  err: string;
  json<T = any>(): T;
}

/** A clock that moves one second per reading: audit order is then deterministic. */
export function tickingClock(start = START) {
  let t = start.getTime();
  return () => new Date((t += 1000));
}

export function cliFor(t: Pick<TestDatabase, 'url'>, opts: { env?: Record<string, string>; now?: () => Date } = {}) {
  const cwd = emptyCwd();
  const now = opts.now ?? tickingClock();
  const extraEnv = opts.env ?? {};
  return async (...args: string[]): Promise<Run> => {
    let out = '';
    let err = '';
    const code = await runCli(['node', 'keyward', ...args], {
      env: { DATABASE_URL: t.url, KEYWARD_SECRET: SECRET, NODE_ENV: 'test', ...extraEnv },
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      osUser: 'alice',
      now,
      cwd,
    });
    return { code, out, err, json: () => JSON.parse(out) };
  };
}

/** Row counts of every table a command could change: equal before and after = nothing changed. */
export async function snapshot(t: TestDatabase) {
  const { db } = t;
  return {
    orgs: await db.org.count(),
    projects: await db.project.findMany({ orderBy: { id: 'asc' } }),
    members: await db.membership.findMany({ orderBy: [{ projectId: 'asc' }, { userId: 'asc' }] }),
    keys: await db.apiKey.findMany({ orderBy: { id: 'asc' } }),
    audit: await db.auditEvent.count(),
  };
}
