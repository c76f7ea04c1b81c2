import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { usingPostgres } from '../helpers/db.js';
import { createHarness, sign, TEAM, U, type Harness } from './harness.js';

describe(`Slack HTTP receiver (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => h?.close());

  const commandBody = (text: string) =>
    new URLSearchParams({
      team_id: TEAM, user_id: U.org, command: '/project', text, trigger_id: 't.1',
      response_url: 'https://hooks.slack.test/commands/forged', channel_id: 'C1',
    }).toString();

  it('calls auth.test once at start and never per request', async () => {
    await h.ask('/keyward', 'help', U.dev);
    await h.ask('/project', 'list', U.dev);
    expect(h.callsTo('auth.test')).toHaveLength(1);
  });

  it('rejects a forged signature with 401 and does nothing', async () => {
    const before = h.calls.length;
    const body = commandBody('create forged');
    const res = await h.post(body, { 'content-type': 'application/x-www-form-urlencoded', ...sign(body, undefined, 'wrong-secret') });
    expect(res.status).toBe(401);
    await h.idle();
    expect(h.calls.length).toBe(before);
    expect(h.responses.find((r) => r.url.endsWith('/forged'))).toBeUndefined();
    expect(await h.t.db.project.count()).toBe(0);
  });

  it('rejects a body altered after signing with 401', async () => {
    const body = commandBody('list');
    const headers = sign(body);
    const res = await h.post(body.replace('list', 'create evil'), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
    expect(res.status).toBe(401);
  });

  it('rejects a stale (6 minutes old) signature with 401', async () => {
    const body = commandBody('create stale');
    const res = await h.post(body, {
      'content-type': 'application/x-www-form-urlencoded',
      ...sign(body, Math.floor(Date.now() / 1000) - 6 * 60),
    });
    expect(res.status).toBe(401);
    expect(await h.t.db.project.count()).toBe(0);
  });

  it('rejects requests without signature headers', async () => {
    const res = await h.post(commandBody('list'), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(401);
  });

  it('answers url_verification and 404 for paths it does not serve', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 'x' });
    const res = await h.post(body, { 'content-type': 'application/json', ...sign(body) });
    expect(res.status).toBe(200);
    expect(res.text).toContain('abc123');
    const other = await h.post('x', { 'content-type': 'text/plain' }, '/slack/other');
    expect(other.status).toBe(404);
  });

  it('publishes App Home with projects, roles, active key counts and own keys', async () => {
    await h.ask('/project', 'create home-proj Home test', U.org);
    await h.ask('/project', `add home-proj <@${U.dev}|dev> developer`, U.org);
    const created = await h.ask('/keys', 'create home-proj Home Key', U.dev);
    const keyId = /key_[0-9A-Za-z]+/.exec(created.text)![0];
    const from = h.calls.length;
    expect(await h.event({ type: 'app_home_opened', user: U.dev, channel: 'DHOME', tab: 'home' })).toBe(200);
    const publish = await h.waitForCall('views.publish', from);
    expect(publish.body.user_id).toBe(U.dev);
    const view = publish.body.view;
    expect(view.type).toBe('home');
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('home-proj');
    expect(text).toContain('Developer');
    expect(text).toContain('1 active key');
    expect(text).toContain(keyId);
  });

  it('drops a repeated Events API delivery (same event_id)', async () => {
    const from = h.calls.length;
    await h.event({ type: 'app_home_opened', user: U.viewer, channel: 'DV', tab: 'home' }, 'EvDUP1');
    await h.waitForCall('views.publish', from);
    await h.event({ type: 'app_home_opened', user: U.viewer, channel: 'DV', tab: 'home' }, 'EvDUP1');
    await h.idle(300);
    expect(h.callsTo('views.publish', from)).toHaveLength(1);
  });

  it('ignores the messages tab', async () => {
    const from = h.calls.length;
    await h.event({ type: 'app_home_opened', user: U.viewer, channel: 'DV', tab: 'messages' });
    await h.idle(200);
    expect(h.callsTo('views.publish', from)).toHaveLength(0);
  });

  it('an unexpected failure gets an apology, is logged, and the app keeps serving', async () => {
    vi.spyOn(h.services.projects, 'list').mockRejectedValueOnce(new Error('database on fire'));
    const r = await h.ask('/project', 'list', U.org);
    expect(r.text).toContain('Sorry, something went wrong');
    expect(r.text).not.toContain('on fire');
    expect(h.logs.some((l) => l.includes('database on fire') && l.includes('"level":"error"'))).toBe(true);
    expect((await h.ask('/project', 'list', U.org)).text).not.toContain('Sorry');
  });
});
