import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { cliFor } from './helpers.js';

const TOKEN = 'xoxb-doctor-test-token-1234567890';

/** A loopback "upstream" that answers every request with `status`. */
async function upstream(status: number): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A loopback URL nothing listens on. */
async function closedUrl(): Promise<string> {
  const { server, url } = await upstream(200);
  await new Promise((r) => server.close(r));
  return url;
}

type Check = { name: string; status: string; message: string };
const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

describe(`keyward doctor (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let up: { server: Server; url: string };
  beforeAll(async () => {
    t = await freshDatabase();
    up = await upstream(404);
  });
  afterAll(async () => {
    up?.server.close();
    await t?.drop();
  });
  afterEach(() => nock.cleanAll());

  it('all good: config, database, Slack auth.test, upstream answer, secret from env → exit 0', async () => {
    const slack = nock('https://slack.com', { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .post('/api/auth.test')
      .reply(200, { ok: true, user: 'keyward', team: 'Acme', team_id: 'T0ACME001' });
    const cli = cliFor(t, {
      env: { SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: 'sign', ANTHROPIC_BASE_URL: up.url, ANTHROPIC_API_KEY: 'sk-ant-x' },
    });
    const r = await cli('doctor');
    expect(r.code).toBe(0);
    expect(slack.isDone()).toBe(true);
    expect(r.out).toMatch(/^✓ config\s+valid/m);
    expect(r.out).toMatch(/^✓ database\s+.*reachable; all \d+ migrations applied/m);
    expect(r.out).toMatch(/^✓ slack\s+authenticated as @keyward in Acme \(T0ACME001\); HTTP mode/m);
    expect(r.out).toMatch(new RegExp(`^✓ upstream\\s+${up.url} reachable \\(HTTP 404\\)`, 'm'));
    expect(r.out).toMatch(/^✓ secret\s+KEYWARD_SECRET comes from the environment/m);
    expect(r.out).toContain('All hard checks passed.');
    expect(r.out).not.toContain(TOKEN);
  });

  it('--json: a stable list of checks', async () => {
    nock('https://slack.com').post('/api/auth.test').reply(200, { ok: true, user: 'k', team: 'A', team_id: 'T1' });
    const r = await cliFor(t, { env: { SLACK_APP_TOKEN: 'xapp-1', SLACK_BOT_TOKEN: TOKEN, ANTHROPIC_BASE_URL: up.url } })('doctor', '--json');
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.ok).toBe(true);
    expect(j.checks.map((c: Check) => c.name)).toEqual(['config', 'database', 'slack', 'upstream', 'upstream key', 'secret']);
    for (const c of j.checks) expect(Object.keys(c).sort()).toEqual(['message', 'name', 'status']);
    expect(byName(j.checks).slack).toMatchObject({ status: 'ok', message: expect.stringContaining('Socket Mode') });
    expect(byName(j.checks)['upstream key']).toMatchObject({ status: 'warn' });
  });

  it('Slack rejecting the token and an unreachable upstream are hard failures → exit 1', async () => {
    nock('https://slack.com').post('/api/auth.test').reply(200, { ok: false, error: 'invalid_auth' });
    const r = await cliFor(t, { env: { SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: 's', ANTHROPIC_BASE_URL: await closedUrl() } })('doctor');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✗ slack\s+Slack refused SLACK_BOT_TOKEN at https:\/\/slack\.com\/api\/auth\.test: invalid_auth/m);
    expect(r.out).toMatch(/^✗ upstream\s+http:\/\/127\.0\.0\.1:\d+ unreachable: ECONNREFUSED/m);
    expect(r.out).toMatch(/^✓ database/m);
    expect(r.out).toContain('2 problems found.');
  });

  it('a custom SLACK_API_URL is used; a Slack HTTP error is reported', async () => {
    const api = nock('https://slack.example.com').post('/proxy/api/auth.test').reply(503, 'busy');
    const r = await cliFor(t, {
      env: { SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'https://slack.example.com/proxy/api', ANTHROPIC_BASE_URL: up.url },
    })('doctor', '--json');
    expect(api.isDone()).toBe(true);
    expect(r.code).toBe(1);
    expect(byName(r.json().checks).slack).toMatchObject({ status: 'fail', message: expect.stringContaining('HTTP 503') });
  });

  it('without Slack credentials says how to configure them, and that is not a failure', async () => {
    const r = await cliFor(t, { env: { ANTHROPIC_BASE_URL: up.url } })('doctor');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^- slack\s+not configured: create the app from manifest\.yml, then set SLACK_BOT_TOKEN/m);
  });

  it('a bot token without the signing secret is a warning naming what is missing', async () => {
    nock('https://slack.com').post('/api/auth.test').reply(200, { ok: true, user: 'k', team: 'A', team_id: 'T1' });
    const r = await cliFor(t, { env: { SLACK_BOT_TOKEN: TOKEN, ANTHROPIC_BASE_URL: up.url } })('doctor');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^! slack\s+authenticated .* but HTTP mode also needs SLACK_SIGNING_SECRET/m);
  });

  it('invalid configuration: every bad variable named, exit 1', async () => {
    const r = await cliFor(t, { env: { PORT: 'eighty', SLACK_BOT_TOKEN: 'nope', ANTHROPIC_BASE_URL: up.url } })('doctor');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✗ config\s+PORT: /m);
    expect(r.out).toMatch(/^✗ config\s+SLACK_BOT_TOKEN: must be a bot token/m);
    expect(r.out).toMatch(/^- others\s+skipped until the configuration is valid/m);
  });

  it('a missing database, a generated secret, and no writes at all', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kw-doc-'));
    const r = await cliFor(
      { url: `file:${path.join(dir, 'missing.db')}` },
      { env: { KEYWARD_SECRET: '', DATA_DIR: dir, ANTHROPIC_BASE_URL: up.url } },
    )('doctor', '--json');
    expect(r.code).toBe(1);
    const checks = byName(r.json().checks);
    expect(checks.database).toMatchObject({ status: 'fail', message: expect.stringContaining('run `keyward migrate`') });
    expect(checks.secret).toMatchObject({ status: 'warn', message: expect.stringContaining('generated at first start') });
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('pending migrations are a hard failure naming them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kw-doc-'));
    const url = `file:${path.join(dir, 'old.db')}`;
    await migrate(url);
    const sqlite = new Database(path.join(dir, 'old.db'));
    const last = sqlite.prepare('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1').pluck().get() as string;
    sqlite.prepare('DELETE FROM _prisma_migrations WHERE migration_name = ?').run(last);
    sqlite.close();
    const r = await cliFor({ url }, { env: { ANTHROPIC_BASE_URL: up.url } })('doctor');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^✗ database\\s+.*answers, but 1 of \\d+ migrations are pending \\(${last}\\): run \`keyward migrate\``, 'm'));
  });

  it('an unreachable PostgreSQL is a hard failure with the password hidden', async () => {
    const r = await cliFor({ url: 'postgresql://kw:hunter2@127.0.0.1:1/kw' }, { env: { ANTHROPIC_BASE_URL: up.url } })('doctor');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✗ database\s+cannot reach PostgreSQL postgresql:\/\/kw:\*\*\*@127\.0\.0\.1:1\/kw: /m);
    expect(r.out).not.toContain('hunter2');
  });
});
