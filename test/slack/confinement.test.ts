/**
 * What people outside a project or the org's admins must not see through Slack: org limits, the
 * access review's per-project status, and the review report (which goes to org admins by DM only).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_SERVED } from '../../src/slack/app.js';
import { usingPostgres } from '../helpers/db.js';
import { createHarness, HOOKS, sign, TEAM, U, type Harness } from './harness.js';

/** A signed slash command from any team (and enterprise), answered through the real receiver. */
async function commandFrom(h: Harness, origin: { team: string; enterprise?: string }, command: string, text: string, user: string) {
  const responseUrl = `${HOOKS}/commands/${origin.team}/${randomBytes(6).toString('hex')}`;
  const body = new URLSearchParams({
    token: 'legacy', team_id: origin.team, team_domain: 'x', channel_id: 'C0GENERAL', channel_name: 'general', user_id: user,
    user_name: user.toLowerCase(), command, text, api_app_id: 'A0KEYWARD', response_url: responseUrl, trigger_id: `trig.${randomBytes(4).toString('hex')}`,
    ...(origin.enterprise ? { enterprise_id: origin.enterprise, enterprise_name: 'grid' } : {}),
  }).toString();
  const res = await h.post(body, { 'content-type': 'application/x-www-form-urlencoded', ...sign(body) });
  return { ...res, responseUrl };
}

async function eventFrom(h: Harness, origin: { team: string; enterprise?: string }, event: Record<string, unknown>) {
  const body = JSON.stringify({
    token: 'legacy', team_id: origin.team, ...(origin.enterprise ? { enterprise_id: origin.enterprise } : {}), api_app_id: 'A0KEYWARD',
    type: 'event_callback', event_id: `Ev${randomBytes(4).toString('hex')}`, event_time: Math.floor(Date.now() / 1000), event,
    authorizations: [{ team_id: origin.team, enterprise_id: origin.enterprise ?? null, user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
  });
  return (await h.post(body, { 'content-type': 'application/json', ...sign(body) })).status;
}

const ORG_CHANNEL = 'CORGALERTS';

describe(`confinement in Slack (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create alpha', U.org);
    await h.ask('/project', `add alpha <@${U.admin}> admin`, U.org);
    await h.ask('/project', `add alpha <@${U.dev}> developer`, U.org);
    await h.ask('/project', 'create hidden', U.org);
    await h.ask('/project', `add hidden <@${U.dev2}> developer`, U.org);
    await h.ask('/keyward', `settings channel=<#${ORG_CHANNEL}|alerts>`, U.org);
    expect((await h.ask('/limits', 'set org hard=4321', U.org)).text).toContain('Saved');
  });
  afterAll(async () => h?.close());

  it('/limits org: only org admins see the org-wide limits and spend', async () => {
    for (const user of [U.outsider, U.admin, U.dev]) {
      const r = await h.ask('/limits', 'org', user);
      expect(r.text).toBe('Only organisation admins see the org-wide limits.');
      expect(JSON.stringify(r.body)).not.toContain('4,321');
    }
    expect(JSON.stringify((await h.ask('/limits', 'org', U.org)).body)).toContain('4,321');
  });

  it("a webhook's signing secret is shown only to who manages that limit, and rotates from Slack", async () => {
    const secretIn = (text: string) => /whsec_[A-Za-z0-9_-]{43}/.exec(text)?.[0];
    const set = await h.ask('/limits', 'set alpha notify=webhook webhook=https://hooks.example.com/alpha', U.admin);
    const first = secretIn(JSON.stringify(set.body))!;
    expect(first).toBeDefined();
    expect(secretIn(JSON.stringify((await h.ask('/limits', 'alpha', U.dev)).body))).toBeUndefined();
    expect((await h.ask('/limits', 'hidden', U.admin)).text).toContain('No project named "hidden"');
    const rotated = await h.ask('/limits', 'set alpha webhook-secret=rotate', U.admin);
    const second = secretIn(JSON.stringify(rotated.body))!;
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(secretIn(JSON.stringify((await h.ask('/limits', 'alpha', U.admin)).body))).toBe(second);
    const audit = await h.t.db.auditEvent.findMany({ where: { action: 'limits.webhook_secret_rotated' } });
    expect(audit).toMatchObject([{ actor: `slack:${U.admin}` }]);
    expect(JSON.stringify(await h.t.db.auditEvent.findMany())).not.toMatch(/whsec_/);
    expect(h.logs.join('')).not.toContain(second);
  });

  it('/keyward review status: org admins see every project, project Admins their own, others nothing', async () => {
    expect((await h.ask('/keyward', 'review start', U.org)).text).toContain('Started access review');
    for (const user of [U.outsider, U.dev, U.dev2]) {
      const r = await h.ask('/keyward', 'review status', user);
      expect(r.text).toBe('Access review status is shown to org admins and to project Admins (for their own projects).');
      expect(JSON.stringify(r.body)).not.toMatch(/alpha|hidden/);
    }
    const admin = JSON.stringify((await h.ask('/keyward', 'review status', U.admin)).body);
    expect(admin).toContain('alpha');
    expect(admin).not.toContain('hidden');
    expect(admin).not.toContain(U.dev2); // hidden's member, not a reviewer of alpha
    const org = await h.ask('/keyward', 'review status', U.org);
    expect(JSON.stringify(org.body)).toMatch(/alpha[\s\S]*hidden/);
    expect(org.text).toMatch(/0 of 5 items decided/); // alpha: UORG, UADMIN, UDEV; hidden: UORG, UDEV2
  });

  it('the closing report and its CSV go to org admins by DM; the org channel gets one line without names', async () => {
    const from = h.calls.length;
    expect((await h.ask('/keyward', 'review close --unreviewed keep', U.org)).text).toContain('closed');
    await h.waitForCall('files.completeUploadExternal', from);
    const uploads = h.callsTo('files.completeUploadExternal', from);
    expect(uploads.map((c) => c.body.channel_id)).toEqual([`D${U.org}`]);
    const toChannel = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === ORG_CHANNEL);
    expect(String(toChannel.body.text)).toMatch(/^Access review `[^`]+` closed: 5 items reviewed; the report went to the org admins by DM\.$/);
    const channelPosts = h.callsTo('chat.postMessage', from).filter((c) => c.body.channel === ORG_CHANNEL);
    expect(channelPosts).toHaveLength(1);
    expect(JSON.stringify(channelPosts)).not.toMatch(/alpha|hidden|UADMIN|UDEV/);
  });
});

describe(`workspace gate (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { SLACK_TEAM_IDS: 'T0EXTRA' } });
    expect((await h.ask('/project', 'create home', U.org)).text).toContain('Created');
  });
  afterAll(async () => h?.close());

  it('a request from a team keyward does not serve is refused and creates nothing', async () => {
    const orgs = await h.t.db.org.count();
    const records = await h.t.db.idempotencyRecord.count();
    const r = await commandFrom(h, { team: 'T0STRANGER' }, '/project', 'create intruder', U.org);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ response_type: 'ephemeral', text: NOT_SERVED });
    const g = await commandFrom(h, { team: 'T0STRANGER', enterprise: 'E0STRANGER' }, '/keyward', 'review status', U.outsider);
    expect(JSON.parse(g.text).text).toBe(NOT_SERVED);
    expect(await eventFrom(h, { team: 'T0STRANGER' }, { type: 'app_home_opened', user: U.dev, channel: 'D1', tab: 'home' })).toBe(200);
    await h.idle();
    expect(await h.t.db.org.count()).toBe(orgs);
    expect(await h.t.db.org.count({ where: { slackTeamId: 'T0STRANGER' } })).toBe(0);
    expect(await h.t.db.project.count({ where: { name: 'intruder' } })).toBe(0);
    expect(await h.t.db.idempotencyRecord.count()).toBe(records);
    expect(h.callsTo('views.publish')).toHaveLength(0);
  });

  it('the installed team and SLACK_TEAM_IDS are served, each as its own org', async () => {
    const extra = await commandFrom(h, { team: 'T0EXTRA' }, '/project', 'list', U.dev);
    expect(extra.text).toBe('');
    expect(String((await h.waitForResponse(extra.responseUrl)).text)).not.toContain(NOT_SERVED);
    const ids = (await h.t.db.org.findMany({ orderBy: { createdAt: 'asc' } })).map((o) => o.slackTeamId);
    expect(ids.sort()).toEqual([TEAM, 'T0EXTRA'].sort());
  });

  it("users.info's admin flags count only for a user of the org's own team", async () => {
    h.handlers.set('users.info', (b) => ({ ok: true, user: { id: b.user, team_id: 'T0ELSEWHERE', is_admin: true, is_owner: true } }));
    try {
      expect((await h.ask('/project', 'create foreign', 'UFOREIGN')).text).toContain('Only organisation admins');
    } finally {
      h.handlers.delete('users.info');
    }
    expect((await h.ask('/project', 'create native', U.wsAdmin)).text).toContain('Created');
  });
});

describe(`Enterprise Grid org-wide install (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  const GRID = 'E0GRID';
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({
      api: {
        'auth.test': () => ({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: GRID, enterprise_id: GRID, is_enterprise_install: true }),
        'users.info': (b) => ({
          ok: true,
          user: b.user === 'WGRIDADMIN'
            ? { id: b.user, team_id: 'T0ONE', is_admin: false, enterprise_user: { enterprise_id: GRID, is_admin: true } }
            : { id: b.user, team_id: 'T0ONE', is_admin: true, enterprise_user: { enterprise_id: GRID, is_admin: false } },
        }),
      },
    });
  });
  afterAll(async () => h?.close());

  const answer = async (origin: { team: string; enterprise?: string }, command: string, text: string, user: string) =>
    String((await h.waitForResponse((await commandFrom(h, origin, command, text, user)).responseUrl)).text);

  it('every workspace of the enterprise is one org; other enterprises and bare teams are refused', async () => {
    expect(await answer({ team: 'T0ONE', enterprise: GRID }, '/project', 'create shared', 'WGRIDADMIN')).toContain('Created');
    // From another workspace of the same enterprise, the same project (same org).
    expect(await answer({ team: 'T0TWO', enterprise: GRID }, '/project', 'create shared', 'WGRIDADMIN')).toContain('already');
    expect(await h.t.db.org.findMany()).toMatchObject([{ slackTeamId: GRID }]);
    for (const origin of [{ team: 'T0ONE', enterprise: 'E0OTHER' }, { team: 'T0ONE' }]) {
      expect(JSON.parse((await commandFrom(h, origin, '/project', 'list', 'WGRIDADMIN')).text).text).toBe(NOT_SERVED);
    }
    expect(await h.t.db.org.count()).toBe(1);
  });

  it("only the enterprise's admins are org admins, not the admins of one of its workspaces", async () => {
    expect(await answer({ team: 'T0TWO', enterprise: GRID }, '/project', 'create mine', 'WWSADMIN')).toContain('Only organisation admins');
  });
});
