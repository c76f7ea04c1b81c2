// The whole product in one real process, as `npm start` runs it: a fake Slack Web API and a mock
// Anthropic upstream on loopback, a key created through the CLI, the official SDK as client.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import { startCommand } from '../scripts/start-command.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { freshDatabase, usingPostgres, type TestDatabase } from './helpers/db.js';

const ROOT = path.resolve(import.meta.dirname, '..');
/** What `npm start` runs after its build (global setup built dist/). */
const START = startCommand();
const SIGNING = 'e2e-signing-secret-0123456789';
const SECRET = 'e2e-server-secret-0123456789abcdefghijkl';

function serve(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  }));
}

const sink = () => {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, cb) { text += chunk.toString(); cb(); } });
  return { stream, text: () => text };
};

describe(`keyward end to end (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let dataDir: string;
  let database: TestDatabase;
  let slackApi: { server: http.Server; url: string };
  let upstream: { server: http.Server; url: string };
  const slackCalls: { method: string; body: string }[] = [];
  let upstreamKeys: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kw-e2e-'));
    database = await freshDatabase();
    slackApi = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const method = (req.url ?? '').replace(/^\/api\//, '');
        slackCalls.push({ method, body });
        res.setHeader('content-type', 'application/json');
        if (method === 'auth.test') return res.end(JSON.stringify({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' }));
        if (method === 'users.info') return res.end(JSON.stringify({ ok: true, user: { id: 'U1', is_admin: false, is_owner: false } }));
        res.end(JSON.stringify({ ok: true }));
      });
    });
    upstream = await serve((req, res) => {
      upstreamKeys.push(String(req.headers['x-api-key']));
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({
          id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5',
          content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', stop_sequence: null,
          usage: { input_tokens: 11, output_tokens: 7 },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_up' });
        res.end(body);
      });
    });
  });
  afterAll(async () => {
    slackApi?.server.close();
    upstream?.server.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves Slack commands, the gateway and health on one port, and flushes usage on SIGTERM', async () => {
    const env = {
      DATABASE_URL: database.url, KEYWARD_SECRET: SECRET, DATA_DIR: dataDir,
      SLACK_BOT_TOKEN: 'xoxb-e2e', SLACK_SIGNING_SECRET: SIGNING, SLACK_API_URL: `${slackApi.url}/api/`,
      ANTHROPIC_BASE_URL: upstream.url, ANTHROPIC_API_KEY: 'sk-ant-e2e-upstream',
    };
    // A key through the CLI, as an operator would script it.
    const cli = async (argv: string[]) => {
      const out = sink();
      const code = await runCli(['node', 'keyward', ...argv], { env: { ...env }, stdout: out.stream, stderr: sink().stream, osUser: 'ops' });
      expect(code).toBe(0);
      return out.text();
    };
    await cli(['projects', 'create', 'e2e']);
    const secret = JSON.parse(await cli(['keys', 'create', 'e2e', 'Local', 'Dev', '--json'])).secret as string;
    expect(secret).toMatch(/^sk-kw-/);

    const child = spawn(process.execPath, START.args, {
      cwd: ROOT, env: { ...START.env, PATH: process.env.PATH!, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (c: Buffer) => {
        output += c.toString();
        const m = /listening on port (\d+)/.exec(output);
        if (m) resolve(Number(m[1]));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const base = `http://127.0.0.1:${port}`;

    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // Slack: a signed slash command reaches Bolt through the shared server.
    const body = new URLSearchParams({
      command: '/keyward', text: 'help', user_id: 'U1', team_id: 'T1', channel_id: 'C1',
      trigger_id: 't.1', response_url: `${slackApi.url}/hook`,
    }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', SIGNING).update(`v0:${ts}:${body}`).digest('hex')}`;
    const slack = await fetch(`${base}/slack/events`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signature },
    });
    expect(slack.status).toBe(200);
    const forged = await fetch(`${base}/slack/events`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': 'v0=00' },
    });
    expect(forged.status).toBe(401);

    // Gateway: the official SDK, changed only in base URL and key.
    const client = new Anthropic({ baseURL: base, apiKey: secret, maxRetries: 0 });
    const message = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.usage.output_tokens).toBe(7);
    expect(upstreamKeys).toEqual(['sk-ant-e2e-upstream']);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Nothing was lost at shutdown, and the secret never reached a log line.
    const events = await database.db.usageEvent.findMany();
    expect(events.map((e) => [e.inputTokens, e.outputTokens, e.status])).toEqual([[11, 7, 200]]);
    expect(output).not.toContain(secret);
    expect(slackCalls.map((c) => c.method)).toContain('auth.test');
    expect(JSON.stringify(slackCalls)).not.toContain(secret);
  }, 60_000);
});
