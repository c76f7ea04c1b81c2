import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCommand } from '../scripts/start-command.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, usingPostgres, type TestDatabase } from './helpers/db.js';

const ROOT = path.resolve(import.meta.dirname, '..');
/** What `npm start` runs after its build (global setup built dist/). */
const START = startCommand();

/** Starts the real server the way `npm start` does and waits for its "listening" line. */
function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, START.args, {
    cwd: ROOT,
    env: { ...START.env, PATH: process.env.PATH!, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on port (\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, port, exited, output: () => output };
}

describe(`npm start (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let dataDir: string;
  let database: TestDatabase | null = null;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kw-start-'));
    if (usingPostgres()) database = await freshDatabase();
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves /healthz and /readyz, says which Slack variables are missing, and stops cleanly on SIGTERM', async () => {
    const env: Record<string, string> = { DATA_DIR: dataDir };
    if (database) env.DATABASE_URL = database.url;
    const server = startServer(env);
    const port = await server.port;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    const slackLines = server.output().split('\n').filter((l) => l.includes('Slack is not configured'));
    expect(slackLines).toHaveLength(1);
    expect(slackLines[0]).toContain('SLACK_BOT_TOKEN');
    expect(slackLines[0]).toContain('manifest.yml');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 30_000);

  it('KEYWARD_ROLES splits the process: gateway only, or bot and scheduler only', async () => {
    const env: Record<string, string> = { DATA_DIR: dataDir };
    if (database) env.DATABASE_URL = database.url;
    const gatewayOnly = startServer({ ...env, KEYWARD_ROLES: 'gateway' });
    const port = await gatewayOnly.port;
    const noKey = await fetch(`http://127.0.0.1:${port}/v1/models`);
    expect(noKey.status).toBe(401); // the gateway answers (Anthropic-shaped refusal)
    expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST' })).status).toBe(503);
    expect(gatewayOnly.output()).not.toContain('Slack is not configured');
    gatewayOnly.child.kill('SIGTERM');
    expect(await gatewayOnly.exited).toBe(0);

    const botOnly = startServer({ ...env, KEYWARD_ROLES: 'bot,scheduler' });
    const botPort = await botOnly.port;
    expect((await fetch(`http://127.0.0.1:${botPort}/v1/models`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${botPort}/healthz`)).status).toBe(200);
    botOnly.child.kill('SIGTERM');
    expect(await botOnly.exited).toBe(0);

    const wrong = startServer({ ...env, KEYWARD_ROLES: 'gateway,dashboard' });
    await expect(wrong.port).rejects.toThrow(/KEYWARD_ROLES/);
    expect(await wrong.exited).toBe(78);
  }, 60_000);

  it('answers the HEAD / probe, and cuts a client that never finishes its headers after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const env: Record<string, string> = { DATA_DIR: dataDir, HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000', GATEWAY_BODY_TIMEOUT_MS: '800' };
    if (database) env.DATABASE_URL = database.url;
    const server = startServer(env);
    const port = await server.port;
    const head = await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.resume(); // read what the server sends, so its close is seen
    const started = Date.now();
    socket.write('POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    await new Promise((r) => socket.on('close', r));
    expect(Date.now() - started).toBeLessThan(3_000);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 30_000);

  it('refuses a bad variable with one clear message naming it', async () => {
    const server = startServer({ DATA_DIR: dataDir, PORT: 'not-a-port' });
    await expect(server.port).rejects.toThrow(/PORT/);
    expect(await server.exited).toBe(78);
  }, 30_000);
});
