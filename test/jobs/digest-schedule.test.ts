import { beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { orgForTeam } from '../../src/services/orgs.js';
import { jobWorld, seedProject } from './world.js';

const w = jobWorld();
const DEFAULT = '0 9 * * 1';
const posts = (d: ReturnType<typeof w.deps>) => d.notifier.sent.filter((s) => s.kind === 'post').map((s) => s.to);

describe('per-org digest schedule and channels', () => {
  let web: Awaited<ReturnType<typeof seedProject>>;
  beforeAll(async () => {
    web = await seedProject(w, 'web', 'CWEB');
    await seedProject(w, 'api', 'CAPI');
  });

  it('follows the org cron, once across two instances, and a new schedule starts with its next slot', async () => {
    const boss = w.user('UBOSS', true);
    // Thursday 26 Nov 2026 11:00 Berlin: Fridays 17:00. Last Friday's slot (before the change) is not sent.
    const view = await w.s.settings.setOrg(boss, ['digest=0', '17', '*', '*', 'FRI'], DEFAULT);
    expect([view.digestCron, view.digestSource, view.nextDigestAt?.toISOString()]).toEqual(['0 17 * * FRI', 'org', '2026-11-27T16:00:00.000Z']);
    const early = w.deps();
    expect(await new Scheduler(early, () => w.clock).tick('digest')).toEqual({ ran: false, reason: 'not due' });

    const friday = new Date('2026-11-27T16:00:20Z');
    const [a, b] = [w.deps(), w.deps()];
    const results = await Promise.all([new Scheduler(a, () => friday).tick('digest'), new Scheduler(b, () => friday).tick('digest')]);
    expect(results.filter((r) => r.ran)).toHaveLength(1);
    expect([...posts(a), ...posts(b)].sort()).toEqual(['CAPI', 'CWEB']);
    // Monday 09:00 (the default) is not a slot of this org any more.
    const monday = w.deps();
    await new Scheduler(monday, () => new Date('2026-11-30T08:00:30Z')).tick('digest');
    expect(posts(monday)).toEqual([]);
    const runs = await w.db.jobRun.findMany({ where: { job: `digest:${w.orgId}` }, orderBy: { slot: 'asc' } });
    expect(runs.map((r) => [r.slot.toISOString(), r.status])).toEqual([
      ['2026-11-20T16:00:00.000Z', 'skipped'],
      ['2026-11-27T16:00:00.000Z', 'done'],
    ]);
  });

  it('sends to the project digest channel, else the org digest channel, before the alert channels; off sends nothing', async () => {
    const boss = w.user('UBOSS', true);
    await w.s.settings.setOrg(boss, ['digest-channel=<#CDIGEST|digests>', 'channel=#CDEFAULT'], DEFAULT);
    await w.s.settings.setProject(web.admin, 'web', ['digest-channel=<#CWEBDIGEST>']);
    const shown = await w.s.settings.showOrg(boss, DEFAULT);
    expect(shown.projects.map((p) => [p.name, p.digestTo])).toEqual([['api', 'CDIGEST'], ['web', 'CWEBDIGEST']]);
    const d = w.deps();
    await new Scheduler(d, () => new Date('2026-12-04T16:00:10Z')).tick('digest');
    expect(posts(d).sort()).toEqual(['CDIGEST', 'CWEBDIGEST']);

    await w.s.settings.setOrg(boss, ['digest=off'], DEFAULT);
    const off = w.deps();
    await new Scheduler(off, () => new Date('2026-12-11T16:00:10Z')).tick('digest');
    expect(off.notifier.sent).toEqual([]);
    expect((await w.s.settings.showOrg(boss, DEFAULT)).nextDigestAt).toBeNull();
    await w.s.settings.setOrg(boss, ['digest=default'], DEFAULT);
    expect((await w.s.settings.showOrg(boss, DEFAULT)).digestSource).toBe('default');
  });

  it('a new org is not sent the slot before it existed; a missed slot after downtime is sent once', async () => {
    const created = new Date('2026-12-16T10:00:00Z'); // a Wednesday
    const other = await orgForTeam(w.db, 'T_NEW', created);
    await w.db.project.create({ data: { id: 'prj_new', orgId: other, name: 'new', alertChannelId: 'CNEW', createdBy: 'slack:UX', createdAt: created } });
    const wed = w.deps();
    await new Scheduler(wed, () => new Date('2026-12-16T10:01:00Z')).tick('digest');
    expect(posts(wed)).not.toContain('CNEW');
    // Down from Sunday to Tuesday: Monday's slot runs once on the first tick, not again.
    const tue = w.deps();
    const s = new Scheduler(tue, () => new Date('2026-12-22T07:00:00Z'));
    await s.tick('digest');
    await s.tick('digest', new Date('2026-12-22T07:01:00Z'));
    expect(posts(tue).filter((c) => c === 'CNEW')).toEqual(['CNEW']);
  });

  it('refuses a bad cron, unknown settings and non-admins; changes are audited', async () => {
    const boss = w.user('UBOSS', true);
    await expect(w.s.settings.setOrg(boss, ['digest=0 25 * * 1'], DEFAULT)).rejects.toThrow(/Cron hour "25" is not valid/);
    await expect(w.s.settings.setOrg(boss, ['digest=daily'], DEFAULT)).rejects.toThrow(/5 fields/);
    await expect(w.s.settings.setOrg(boss, ['color=blue'], DEFAULT)).rejects.toThrow(/Unknown setting "color"/);
    await expect(w.s.settings.setOrg(w.user('UADM'), ['digest=off'], DEFAULT)).rejects.toThrow(/Only organisation admins/);
    await expect(w.s.settings.setProject(w.user('UDEV'), 'web', ['digest-channel=default'])).rejects.toThrow(/Admin/);
    const events = await w.db.auditEvent.findMany({ where: { action: { in: ['org.settings_set', 'project.settings_set'] } }, orderBy: { createdAt: 'asc' } });
    expect(events.map((e) => e.action)).toEqual(['org.settings_set', 'org.settings_set', 'project.settings_set', 'org.settings_set', 'org.settings_set']);
    expect(JSON.parse(events[0]!.details)).toEqual({ changes: { digestCron: '0 17 * * FRI' }, before: { alertChannelId: null, digestCron: null, digestChannelId: null } });
  });
});
