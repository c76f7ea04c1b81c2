import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgres } from '../helpers/db.js';
import { createHarness, U, type Harness } from './harness.js';

describe(`/project through Slack (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  const auditCount = () => h.t.db.auditEvent.count();

  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create alpha "Alpha team" & friends', U.org);
    for (const [user, role] of [[U.admin, 'admin'], [U.dev, 'developer'], [U.viewer, 'viewer']] as const) {
      const r = await h.ask('/project', `add alpha <@${user}|${user.toLowerCase()}> ${role}`, U.org);
      expect(r.text).toContain('Added');
    }
  });
  afterAll(async () => h?.close());

  it('answers help, and help for an empty command, ephemerally', async () => {
    for (const text of ['help', '']) {
      const r = await h.ask('/project', text, U.outsider);
      expect(r.body.response_type).toBe('ephemeral');
      expect(r.text).toContain('/project create');
      expect(r.body.blocks.length).toBeGreaterThan(0);
    }
    const k = await h.ask('/keyward', 'help', U.outsider);
    expect(k.text).toContain('/project');
    expect(JSON.stringify(k.body.blocks)).toContain('/keys rotate');
    expect((await h.ask('/keyward', 'frobnicate', U.outsider)).text).toContain('Unknown subcommand "frobnicate"');
  });

  it('create: the creator becomes Admin, the description is unescaped, and the action is audited', async () => {
    const project = await h.t.db.project.findFirstOrThrow({ where: { name: 'alpha' }, include: { members: true } });
    expect(project.description).toBe('Alpha team & friends');
    expect(project.members.find((m) => m.userId === U.org)?.role).toBe('admin');
    const events = await h.t.db.auditEvent.findMany({ where: { action: 'project.created' } });
    expect(events.map((e) => e.actor)).toContain(`slack:${U.org}`);
  });

  it('create: only org admins (KEYWARD_ADMINS or Slack workspace admins) may', async () => {
    for (const user of [U.admin, U.dev, U.viewer, U.outsider]) {
      const r = await h.ask('/project', `create nope-${user.toLowerCase()}`, user);
      expect(r.text).toContain('Only organisation admins can create projects');
    }
    expect(await h.t.db.project.count()).toBe(1);
    const from = h.calls.length;
    expect((await h.ask('/project', 'create ws-proj', U.wsAdmin)).text).toContain('Created project *ws-proj*');
    // users.info answered once and was cached (1 h) in SlackUser, with the user's last activity.
    await h.ask('/project', 'list', U.wsAdmin);
    const infos = h.callsTo('users.info', from).filter((c) => c.body.user === U.wsAdmin);
    expect(infos.length).toBeLessThanOrEqual(1);
    const row = await h.t.db.slackUser.findFirstOrThrow({ where: { userId: U.wsAdmin } });
    expect(row.isWorkspaceAdmin).toBe(true);
    expect(row.lastSeenAt).toBeInstanceOf(Date);
    // KEYWARD_ADMINS never needs Slack's word.
    expect(h.calls.filter((c) => c.method === 'users.info' && c.body.user === U.org)).toHaveLength(0);
  });

  it('refreshes the cached admin status after an hour', async () => {
    const from = h.calls.length;
    h.handlers.set('users.info', (b) => ({ ok: true, user: { id: b.user, is_admin: false } }));
    try {
      h.advance(61 * 60_000);
      const r = await h.ask('/project', 'create too-late', U.wsAdmin);
      expect(r.text).toContain('Only organisation admins');
      expect(h.callsTo('users.info', from).some((c) => c.body.user === U.wsAdmin)).toBe(true);
    } finally {
      h.handlers.delete('users.info');
    }
  });

  it('when users.info fails, keeps the last known answer for up to 24 h (unknown users are not admins)', async () => {
    h.handlers.set('users.info', () => ({ ok: false, error: 'ratelimited' }));
    try {
      expect((await h.ask('/project', 'create via-unknown', 'UNEWCOMER')).text).toContain('Only organisation admins');
      await h.t.db.slackUser.update({
        where: { orgId_userId: { orgId: (await h.t.db.org.findFirstOrThrow()).id, userId: 'UNEWCOMER' } },
        data: { isWorkspaceAdmin: true, adminCheckedAt: new Date(h.services.deps.now!().getTime() - 2 * 3_600_000) },
      });
      expect((await h.ask('/project', 'create via-cache', 'UNEWCOMER')).text).toContain('Created project *via-cache*');
      expect(h.logs.some((l) => l.includes('users.info failed'))).toBe(true);
    } finally {
      h.handlers.delete('users.info');
    }
  });

  it('create: refuses bad names and duplicates with a specific message', async () => {
    expect((await h.ask('/project', 'create Bad_Name', U.org)).text).toContain('is not a valid project name');
    expect((await h.ask('/project', 'create alpha', U.org)).text).toContain('already exists');
    expect((await h.ask('/project', 'create', U.org)).text).toContain('Missing arguments');
  });

  it('list: each person sees their projects and role; outsiders see none', async () => {
    const dev = await h.ask('/project', 'list', U.dev);
    expect(dev.text).toContain('alpha');
    expect(JSON.stringify(dev.body.blocks)).toContain('Developer');
    expect(dev.text).not.toContain('ws-proj');
    const out = await h.ask('/project', 'list', U.outsider);
    expect(out.text).toContain('not a member of any project');
    const org = await h.ask('/project', 'list', U.org);
    expect(org.text).toContain('ws-proj');
  });

  it('show: members and settings for members; outsiders get "not found"', async () => {
    const v = await h.ask('/project', 'show alpha', U.viewer);
    const blocks = JSON.stringify(v.body.blocks);
    expect(blocks).toContain(`<@${U.dev}>`);
    expect(blocks).toContain('Alpha team &amp; friends');
    expect((await h.ask('/project', 'show alpha', U.outsider)).text).toContain('No project named "alpha" that you can see');
    expect((await h.ask('/project', 'show ghost', U.org)).text).toContain('No project named "ghost"');
  });

  // Authorization matrix for member management and settings.
  const matrix: [string, string, RegExp][] = [
    [U.dev, 'add alpha <@UNEW1> viewer', /Only Admins of alpha can manage its members/],
    [U.viewer, 'add alpha <@UNEW1> viewer', /Only Admins of alpha can manage its members/],
    [U.outsider, 'add alpha <@UNEW1> viewer', /No project named "alpha"/],
    [U.dev, 'role alpha <@UVIEW> admin', /Only Admins of alpha/],
    [U.viewer, 'remove alpha <@UDEV>', /Only Admins of alpha/],
    [U.dev, 'channel alpha <#C0ALERTS|alerts>', /Only Admins of alpha can change its settings/],
    [U.outsider, 'channel alpha <#C0ALERTS>', /No project named/],
    [U.admin, 'archive alpha', /Only organisation admins can archive/],
    [U.dev, 'archive alpha', /Only organisation admins can archive/],
  ];
  it.each(matrix)('refuses %s: /project %s', async (user, text, expected) => {
    const before = await auditCount();
    const r = await h.ask('/project', text, user);
    expect(r.text).toMatch(expected);
    expect(await auditCount()).toBe(before);
  });

  it('project Admins manage members: add (both mention forms), role, remove', async () => {
    expect((await h.ask('/project', 'add alpha <@UNEW1> viewer', U.admin)).text).toBe(`Added <@UNEW1> to *alpha* as Viewer.`);
    expect((await h.ask('/project', 'add alpha <@UNEW1|new> developer', U.admin)).text).toContain('already a Viewer');
    expect((await h.ask('/project', 'role alpha <@UNEW1|new> developer', U.admin)).text).toContain('now Developer of *alpha* (was Viewer)');
    expect((await h.ask('/project', 'role alpha <@UNEW1> developer', U.admin)).text).toContain('nothing changed');
    // Someone without keys is removed at once; with keys, a modal asks (test/slack/offboarding.test.ts).
    expect((await h.ask('/project', 'remove alpha <@UNEW1>', U.admin)).text).toContain('Removed <@UNEW1> (Developer) from *alpha*. They owned no active keys there.');
    expect(await h.t.db.membership.count({ where: { userId: 'UNEW1' } })).toBe(0);
    expect((await h.ask('/project', 'remove alpha <@UNEW1>', U.admin)).text).toContain('not a member');
    expect(await h.t.db.membership.count({ where: { userId: 'UNEW1' } })).toBe(0);
  });

  it('keeps a last Admin and explains plain @names and bad roles', async () => {
    expect((await h.ask('/project', `role ws-proj <@${U.wsAdmin}> viewer`, U.org)).text).toContain("last Admin");
    expect((await h.ask('/project', 'add alpha @bob viewer', U.admin)).text).toContain('pick the person from the @-mention menu');
    expect((await h.ask('/project', 'add alpha <@UNEW2> owner', U.admin)).text).toContain('Unknown role "owner"');
  });

  it('channel: both link forms; the alert channel is stored', async () => {
    expect((await h.ask('/project', 'channel alpha <#C0ALERTS|alerts>', U.admin)).text).toContain('<#C0ALERTS>');
    expect((await h.ask('/project', 'channel alpha <#C0OTHER>', U.admin)).text).toContain('<#C0OTHER>');
    expect((await h.t.db.project.findFirstOrThrow({ where: { name: 'alpha' } })).alertChannelId).toBe('C0OTHER');
    expect((await h.ask('/project', 'channel alpha #alerts', U.admin)).text).toContain('pick the channel from the #-menu');
  });

  it('hostile input gets a specific answer within 3 s and changes nothing', async () => {
    const before = await auditCount();
    const cases: [string, RegExp][] = [
      ['x'.repeat(5_000), /too long/],
      ['frobnicate alpha', /Unknown subcommand "frobnicate"/],
      ['create "unclosed', /quote is not closed/],
      ['create ünïcødé-名前', /not a valid project name/],
      ['list --all', /takes no options/],
      ['show alpha extra words', /Too many arguments/],
      ['add alpha <@U123|x> viewer; DROP TABLE', /Too many arguments/],
      ["show '; DROP TABLE \"Project\"; --", /quote is not closed/],
      ['show "alpha; DROP TABLE project"', /No project named "alpha; DROP TABLE project"/],
      ['show “alpha”', /Alpha team|Project alpha/],
      ['add alpha <!channel> viewer', /is not a person/],
    ];
    for (const [text, expected] of cases) {
      const started = Date.now();
      const { status, responseUrl } = await h.command('/project', text, U.org);
      expect(status).toBe(200);
      const body = await h.waitForResponse(responseUrl);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(body.response_type).toBe('ephemeral');
      expect(String(body.text)).toMatch(expected);
      expect(String(body.text).length).toBeLessThan(400);
    }
    expect(await auditCount()).toBe(before);
  });

  it('archive: org admins only; revokes the active keys', async () => {
    await h.ask('/keys', 'create alpha Archive Me', U.dev);
    const r = await h.ask('/project', 'archive alpha', U.org);
    expect(r.text).toContain('Archived *alpha* and revoked its 1 active key');
    expect(await h.t.db.apiKey.count({ where: { status: 'active' } })).toBe(0);
    expect((await h.ask('/project', 'archive alpha', U.org)).text).toContain('already archived');
    expect((await h.ask('/project', 'add alpha <@UNEW3> viewer', U.org)).text).toContain('archived');
  });
});
