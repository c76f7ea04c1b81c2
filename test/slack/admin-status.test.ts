import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { usingPostgres } from '../helpers/db.js';
import { createHarness, TEAM, U, type Harness } from './harness.js';

const UNCONFIRMED = 'keyward cannot confirm your admin status with Slack right now';
const HOUR = 3_600_000;

describe(`org-admin status while users.info fails (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  let orgId: string;
  const STALE = 'USTALEADMIN';

  /** STALE was last confirmed a workspace admin `ageMs` ago (services clock). */
  const cachedAdmin = (ageMs: number) =>
    h.t.db.slackUser.upsert({
      where: { orgId_userId: { orgId, userId: STALE } },
      create: { orgId, userId: STALE, isWorkspaceAdmin: true, adminCheckedAt: new Date(h.services.deps.now!().getTime() - ageMs) },
      update: { isWorkspaceAdmin: true, adminCheckedAt: new Date(h.services.deps.now!().getTime() - ageMs) },
    });

  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create alpha', U.org);
    await h.ask('/project', `add alpha <@${U.dev}|dev> developer`, U.org);
    orgId = (await h.t.db.org.findFirstOrThrow()).id;
  });
  beforeEach(() => {
    h.handlers.set('users.info', () => ({ ok: false, error: 'fatal_error' }));
  });
  afterAll(async () => h?.close());

  it('a cached admin answer older than 24 h fails closed for admin-only actions, saying why; nothing changes', async () => {
    await cachedAdmin(25 * HOUR);
    const projects = await h.t.db.project.count();
    const audits = await h.t.db.auditEvent.count();
    const from = h.calls.length;

    const create = await h.ask('/project', 'create stale-proj', STALE);
    expect(create.text).toContain('Only organisation admins can create projects');
    expect(create.text).toContain(UNCONFIRMED);
    const archive = await h.ask('/project', 'archive alpha', STALE);
    expect(archive.text).toContain(UNCONFIRMED);
    const settings = await h.ask('/keyward', 'settings channel=<#C0ALERTS|alerts>', STALE);
    expect(settings.text).toContain(UNCONFIRMED);

    expect(h.callsTo('users.info', from).some((c) => c.body.user === STALE)).toBe(true);
    expect(await h.t.db.project.count()).toBe(projects);
    expect((await h.t.db.project.findFirstOrThrow({ where: { name: 'alpha' } })).archivedAt).toBeNull();
    expect((await h.t.db.org.findFirstOrThrow()).alertChannelId).toBeNull();
    expect(await h.t.db.auditEvent.count()).toBe(audits);
    // The stale answer is kept (Slack may come back), not overwritten by "not admin".
    expect((await h.t.db.slackUser.findFirstOrThrow({ where: { userId: STALE } })).isWorkspaceAdmin).toBe(true);
  });

  it('within 24 h the cached answer still stands', async () => {
    await cachedAdmin(23 * HOUR);
    const r = await h.ask('/project', 'create fresh-proj', STALE);
    expect(r.text).toContain('Created project *fresh-proj*');
  });

  it('KEYWARD_ADMINS need no answer from Slack, and members are refused without the notice', async () => {
    const from = h.calls.length;
    expect((await h.ask('/project', 'create config-proj', U.org)).text).toContain('Created project *config-proj*');
    expect(h.callsTo('users.info', from).some((c) => c.body.user === U.org)).toBe(false);
    const dev = await h.ask('/project', 'create dev-proj', U.dev);
    expect(dev.text).toContain('Only organisation admins');
    expect(dev.text).not.toContain(UNCONFIRMED);
  });

  it('once Slack answers again, the admin acts as before', async () => {
    await cachedAdmin(25 * HOUR);
    h.handlers.set('users.info', (b) => ({ ok: true, user: { id: b.user, team_id: TEAM, is_admin: true } }));
    expect((await h.ask('/project', 'create back-proj', STALE)).text).toContain('Created project *back-proj*');
  });
});
