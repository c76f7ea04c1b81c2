/**
 * Drives the real Bolt HTTPReceiver over 127.0.0.1 with signed requests; the Slack Web API
 * (https://slack.test/api/) and response_urls (https://hooks.slack.test) are intercepted by nock
 * and every call is recorded, decoded (web-api form-encodes blocks/view as JSON strings).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import nock from 'nock';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/services/index.js';
import { createSlackApp, type SlackApp } from '../../src/slack/app.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const API = 'https://slack.test';
export const HOOKS = 'https://hooks.slack.test';
export const TEAM = 'T0TEST';
/** Users: UORG is in KEYWARD_ADMINS, UWSADMIN is a Slack workspace admin (users.info). */
export const U = { org: 'UORG', wsAdmin: 'UWSADMIN', admin: 'UADMIN', dev: 'UDEV', dev2: 'UDEV2', viewer: 'UVIEW', outsider: 'UOUT' } as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

export interface SlackCall {
  method: string;
  body: Json;
  raw: string;
}
export type ApiHandler = (body: Json) => Record<string, unknown>;

export function sign(body: string, ts = Math.floor(Date.now() / 1000), secret = SIGNING_SECRET) {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature };
}

function decode(raw: string): Record<string, unknown> {
  let out: Record<string, unknown>;
  try {
    out = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    out = Object.fromEntries(new URLSearchParams(raw));
  }
  for (const k of ['blocks', 'view', 'attachments']) {
    if (typeof out[k] === 'string') out[k] = JSON.parse(out[k] as string);
  }
  return out;
}

export interface Harness {
  t: TestDatabase;
  services: Services;
  slack: SlackApp;
  url: string;
  calls: SlackCall[];
  responses: { url: string; body: Json; raw: string }[];
  logs: string[];
  handlers: Map<string, ApiHandler>;
  /** Moves the services' clock (Bolt signatures keep using real time). */
  advance(ms: number): void;
  post(body: string, headers: Record<string, string>, path?: string): Promise<{ status: number; text: string }>;
  command(command: string, text: string, user: string, opts?: { triggerId?: string }): Promise<{ status: number; responseUrl: string; triggerId: string }>;
  /** A slash command's ephemeral answer (waits for its response_url POST). */
  ask(command: string, text: string, user: string): Promise<{ text: string; body: Json }>;
  interact(payload: Record<string, unknown>): Promise<{ status: number; text: string }>;
  event(event: Record<string, unknown>, eventId?: string): Promise<number>;
  waitForResponse(url: string): Promise<Json>;
  waitForCall(method: string, from?: number, pred?: (c: SlackCall) => boolean): Promise<SlackCall>;
  callsTo(method: string, from?: number): SlackCall[];
  idle(ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function waitFor<T>(fn: () => T | undefined | null | false, what: string, timeout = 5_000): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `api`: Web API answers in place of the defaults from the start (auth.test runs at start). */
export async function createHarness(opts: { env?: Record<string, string>; api?: Record<string, ApiHandler> } = {}): Promise<Harness> {
  const t = await freshDatabase();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  // trace: the most Bolt/WebClient output there is, so secret scans of the logs mean something.
  const logger = createLogger('trace', sink);
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `${API}/api/`,
      KEYWARD_ADMINS: U.org,
      KEYWARD_SECRET: randomBytes(32).toString('hex'),
      DATABASE_URL: t.url,
      ...opts.env,
    },
    { generateSecret: false },
  );
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  const services = createServices({
    db: t.db, secret: config.secret, logger, now,
    require2fa: config.require2fa, approvalTtlMs: config.approvalTtlHours * 3_600_000,
    webhookAllowPrivate: config.webhookAllowPrivate,
  });

  const calls: SlackCall[] = [];
  const responses: Harness['responses'] = [];
  const handlers = new Map<string, ApiHandler>(Object.entries(opts.api ?? {}));
  let seq = 0;
  const defaults: Record<string, ApiHandler> = {
    'auth.test': () => ({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: TEAM }),
    'users.info': (b) => ({ ok: true, user: { id: b.user, team_id: TEAM, is_admin: b.user === U.wsAdmin, is_owner: false } }),
    'conversations.open': (b) => ({ ok: true, channel: { id: `D${b.users}` } }),
    'chat.postEphemeral': () => ({ ok: true, message_ts: `${++seq}.000100` }),
    'chat.postMessage': (b) => ({ ok: true, channel: b.channel, ts: `${++seq}.000200` }),
    'chat.update': (b) => ({ ok: true, channel: b.channel, ts: b.ts }),
    'views.open': () => ({ ok: true, view: { id: `V${++seq}` } }),
    'views.update': (b) => ({ ok: true, view: { id: b.view_id } }),
    'views.publish': () => ({ ok: true }),
    // File uploads: the bytes go to an upload URL on HOOKS (recorded in `responses`).
    'files.getUploadURLExternal': (b) => ({ ok: true, upload_url: `${HOOKS}/upload/${b.filename}`, file_id: `F${++seq}` }),
    'files.completeUploadExternal': () => ({ ok: true, files: [{ id: 'F1' }] }),
  };
  nock(API)
    .persist()
    .post(/^\/api\//)
    .reply((uri, body) => {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      const method = uri.replace(/^\/api\//, '').split('?')[0]!;
      const decoded = decode(raw);
      calls.push({ method, body: decoded, raw });
      const handler = handlers.get(method) ?? defaults[method];
      return [200, handler ? handler(decoded) : { ok: false, error: 'unknown_method' }];
    });
  nock(HOOKS)
    .persist()
    .post(/.*/)
    .reply((uri, body) => {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      responses.push({ url: `${HOOKS}${uri}`, body: decode(raw), raw });
      return [200, 'ok'];
    });

  const slack = createSlackApp({ config, services, logger, clientOptions: { retryConfig: { retries: 0 }, timeout: 2_000 } });
  await slack.start();
  const server: Server = createServer(slack.requestListener!);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const post = async (body: string, headers: Record<string, string>, path = '/slack/events') => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body, headers });
    return { status: res.status, text: await res.text() };
  };
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const formHeaders = (body: string) => ({ 'content-type': 'application/x-www-form-urlencoded', ...sign(body) });

  const h: Harness = {
    t, services, slack, url, calls, responses, logs, handlers,
    advance: (ms) => void (offset += ms),
    post,
    async command(command, text, user, opts = {}) {
      const n = ++seq;
      const triggerId = opts.triggerId ?? `trig.${n}.${randomBytes(4).toString('hex')}`;
      const responseUrl = `${HOOKS}/commands/${TEAM}/${n}/${randomBytes(6).toString('hex')}`;
      const body = form({
        token: 'legacy', team_id: TEAM, team_domain: 'test', channel_id: 'C0GENERAL', channel_name: 'general',
        user_id: user, user_name: user.toLowerCase(), command, text, api_app_id: 'A0KEYWARD',
        response_url: responseUrl, trigger_id: triggerId,
      });
      const res = await post(body, formHeaders(body));
      return { status: res.status, responseUrl, triggerId };
    },
    async ask(command, text, user) {
      const { status, responseUrl } = await h.command(command, text, user);
      if (status !== 200) throw new Error(`${command} answered HTTP ${status}`);
      const body = await h.waitForResponse(responseUrl);
      return { text: String(body.text), body };
    },
    async interact(payload) {
      const body = form({ payload: JSON.stringify(payload) });
      const res = await post(body, formHeaders(body));
      return res;
    },
    async event(event, eventId = `Ev${++seq}`) {
      const body = JSON.stringify({
        token: 'legacy', team_id: TEAM, api_app_id: 'A0KEYWARD', type: 'event_callback', event_id: eventId,
        event_time: Math.floor(Date.now() / 1000), event,
      });
      const res = await post(body, { 'content-type': 'application/json', ...sign(body) });
      return res.status;
    },
    waitForResponse: (u) => waitFor(() => responses.find((r) => r.url === u)?.body, `response to ${u}`),
    waitForCall: (method, from = 0, pred = () => true) =>
      waitFor(() => calls.slice(from).find((c) => c.method === method && pred(c)), `Slack call ${method}`),
    callsTo: (method, from = 0) => calls.slice(from).filter((c) => c.method === method),
    idle: (ms = 150) => new Promise((r) => setTimeout(r, ms)),
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await slack.stop();
      nock.cleanAll();
      await t.drop();
    },
  };
  return h;
}

/** Block-action payload as Slack sends it for a button click. */
export function buttonClick(user: string, action: { action_id: string; value: string }, extra: Record<string, unknown> = {}) {
  return {
    type: 'block_actions',
    team: { id: TEAM, domain: 'test' },
    user: { id: user, username: user.toLowerCase(), team_id: TEAM },
    api_app_id: 'A0KEYWARD',
    trigger_id: `trig.${randomBytes(4).toString('hex')}`,
    response_url: `${HOOKS}/actions/${TEAM}/${randomBytes(6).toString('hex')}`,
    actions: [{ type: 'button', block_id: 'b', text: { type: 'plain_text', text: 'x' }, action_ts: `${Date.now() / 1000}`, ...action }],
    ...extra,
  };
}

/** view_submission payload for a view the app opened (its JSON from views.open). */
export function viewSubmission(user: string, view: Record<string, unknown>, viewId: string, values: Record<string, Record<string, unknown>>) {
  return {
    type: 'view_submission',
    team: { id: TEAM, domain: 'test' },
    user: { id: user, username: user.toLowerCase(), team_id: TEAM },
    api_app_id: 'A0KEYWARD',
    trigger_id: `trig.${randomBytes(4).toString('hex')}`,
    view: { ...view, id: viewId, team_id: TEAM, hash: 'h', state: { values } },
  };
}
