import { describe, expect, it } from 'vitest';
import { cliActor } from '../../src/services/index.js';
import { T0, rejects, seedProject, serviceWorld } from './setup.js';

const w = serviceWorld();

describe('projects: create', () => {
  it('only org admins create; the Slack creator becomes Admin; audited', async () => {
    const boss = w.user('UBOSS', true);
    const p = await w.s.projects.create(boss, 'support-bot', 'Answers "support" questions — 東京');
    expect(p).toMatchObject({ name: 'support-bot', description: 'Answers "support" questions — 東京', orgId: w.orgId, archivedAt: null });
    expect(p.createdAt.toISOString()).toBe(T0.toISOString());
    const m = await w.db.membership.findMany({ where: { projectId: p.id } });
    expect(m.map((x) => [x.userId, x.role])).toEqual([['UBOSS', 'admin']]);
    const ev = await w.db.auditEvent.findMany({ where: { projectId: p.id } });
    expect(ev.map((e) => [e.action, e.actor])).toEqual([['project.created', 'slack:UBOSS']]);
  });

  it('refuses non-admins, whatever their project roles, and writes nothing', async () => {
    const before = await w.db.project.count();
    const e = await rejects(w.s.projects.create(w.user('UBOSS'), 'nope'), 'forbidden');
    expect(e.message).toMatch(/organisation admins/);
    expect(await w.db.project.count()).toBe(before);
  });

  it('the CLI creates projects without making anyone a member', async () => {
    const p = await w.s.projects.create(cliActor(w.orgId, 'alice'), 'cli-made');
    expect(await w.db.membership.count({ where: { projectId: p.id } })).toBe(0);
    const ev = await w.db.auditEvent.findFirstOrThrow({ where: { projectId: p.id } });
    expect(ev.actor).toBe('cli:alice');
  });

  it('refuses duplicate names (also when archived) and bad names, changing nothing', async () => {
    const boss = w.user('UBOSS', true);
    await rejects(w.s.projects.create(boss, 'support-bot'), 'conflict');
    await rejects(w.s.projects.create(boss, '  support-bot '), 'conflict');
    for (const bad of ['', 'X', 'Has Space', '--env', 'x'.repeat(5000), '"q"']) {
      await rejects(w.s.projects.create(boss, bad), 'invalid');
    }
    await rejects(w.s.projects.create(boss, 'long-desc', 'd'.repeat(501)), 'invalid');
    expect(await w.db.project.count({ where: { name: 'long-desc' } })).toBe(0);
  });

  it('two concurrent creates of one name make one project', async () => {
    const boss = w.user('UBOSS', true);
    const results = await Promise.allSettled([w.s.projects.create(boss, 'racy'), w.s.projects.create(boss, 'racy')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason.code).toBe('conflict');
    expect(await w.db.project.count({ where: { name: 'racy' } })).toBe(1);
  });
});

describe('projects: visibility', () => {
  it('members see their projects, outsiders none, org admins all', async () => {
    const { admin, dev, viewer } = await seedProject(w, 'vis-a', { admin: 'UA1', dev: 'UD1', viewer: 'UV1' });
    await seedProject(w, 'vis-b', { admin: 'UA2', dev: 'UD1', viewer: 'UV2' });
    const names = async (a: ReturnType<typeof w.user>) => (await w.s.projects.list(a)).map((p) => p.name);
    expect(await names(admin)).toEqual(['vis-a']);
    expect(await names(viewer)).toEqual(['vis-a']);
    expect(await names(dev)).toEqual(['vis-a', 'vis-b']);
    expect(await names(w.user('UNOBODY'))).toEqual([]);
    const all = await names(w.user('UANY', true));
    expect(all).toEqual(expect.arrayContaining(['vis-a', 'vis-b', 'support-bot', 'cli-made']));
    const mine = (await w.s.projects.list(dev)).find((p) => p.name === 'vis-a')!;
    expect(mine).toMatchObject({ myRole: 'developer', memberCount: 4, activeKeys: 0 });
  });

  it('a project from another org is invisible even to that org\'s name', async () => {
    const { orgForTeam } = await import('../../src/services/orgs.js');
    const other = await orgForTeam(w.db, 'T_OTHER', w.clock);
    const { slackActor } = await import('../../src/services/index.js');
    await rejects(w.s.projects.show(slackActor(other, 'UBOSS', true), 'vis-a'), 'not_found');
    expect(await w.s.projects.list(slackActor(other, 'UBOSS', true))).toEqual([]);
  });

  it('show: members and org admins see details; outsiders get the same not_found as a missing project', async () => {
    const shown = await w.s.projects.show(w.user('UV1'), 'vis-a');
    expect(shown.members.map((m) => m.userId).sort()).toEqual(['UA1', 'UBOSS', 'UD1', 'UV1']);
    expect(shown.subject).toEqual({ orgAdmin: false, role: 'viewer' });
    expect((await w.s.projects.show(w.user('UX', true), 'VIS-A')).project.name).toBe('vis-a');
    const hidden = await rejects(w.s.projects.show(w.user('UNOBODY'), 'vis-a'), 'not_found');
    const missing = await rejects(w.s.projects.show(w.user('UNOBODY'), 'no-such'), 'not_found');
    expect(hidden.message.replace('vis-a', 'X')).toBe(missing.message.replace('no-such', 'X'));
    const long = await rejects(w.s.projects.show(w.user('UNOBODY'), 'y'.repeat(5000)), 'not_found');
    expect(long.message.length).toBeLessThan(200);
  });
});

describe('projects: members', () => {
  it('Admins add, change and remove members; each audited', async () => {
    const { admin } = await seedProject(w, 'mem', { admin: 'UMA', dev: 'UMD', viewer: 'UMV' });
    await w.s.projects.addMember(admin, 'mem', 'UNEW', 'viewer');
    const r = await w.s.projects.setRole(admin, 'mem', 'UNEW', 'developer');
    expect(r).toMatchObject({ changed: true, previous: 'viewer', role: 'developer' });
    expect((await w.s.projects.setRole(admin, 'mem', 'UNEW', 'developer')).changed).toBe(false);
    await w.s.projects.removeMember(admin, 'mem', 'UNEW');
    const p = await w.db.project.findFirstOrThrow({ where: { name: 'mem' } });
    expect(await w.db.membership.findUnique({ where: { projectId_userId: { projectId: p.id, userId: 'UNEW' } } })).toBeNull();
    const acts = await w.db.auditEvent.findMany({ where: { projectId: p.id, targetId: 'UNEW' }, orderBy: { createdAt: 'asc' } });
    expect(acts.map((a) => [a.action, a.actor])).toEqual([
      ['member.added', 'slack:UMA'], ['member.role_changed', 'slack:UMA'], ['member.removed', 'slack:UMA'],
    ]);
    expect(JSON.parse(acts[1]!.details)).toEqual({ from: 'viewer', to: 'developer' });
  });

  it('Developers, Viewers and outsiders cannot manage members', async () => {
    const { dev, viewer } = { dev: w.user('UMD'), viewer: w.user('UMV') };
    await rejects(w.s.projects.addMember(dev, 'mem', 'UZ', 'viewer'), 'forbidden');
    await rejects(w.s.projects.addMember(viewer, 'mem', 'UZ', 'viewer'), 'forbidden');
    await rejects(w.s.projects.setRole(dev, 'mem', 'UMV', 'admin'), 'forbidden');
    await rejects(w.s.projects.removeMember(viewer, 'mem', 'UMD'), 'forbidden');
    await rejects(w.s.projects.addMember(w.user('UOUT'), 'mem', 'UOUT', 'admin'), 'not_found');
    const p = await w.db.project.findFirstOrThrow({ where: { name: 'mem' } });
    expect(await w.db.membership.count({ where: { projectId: p.id } })).toBe(4);
  });

  it('refuses adding an existing member and changing a non-member', async () => {
    const admin = w.user('UMA');
    const e = await rejects(w.s.projects.addMember(admin, 'mem', 'UMD', 'admin'), 'conflict');
    expect(e.message).toContain('/project role mem');
    await rejects(w.s.projects.setRole(admin, 'mem', 'UGHOST', 'viewer'), 'not_found');
    await rejects(w.s.projects.removeMember(admin, 'mem', 'UGHOST'), 'not_found');
  });

  it('keeps at least one Admin', async () => {
    const boss = w.user('UBOSS', true);
    await w.s.projects.create(boss, 'solo');
    await rejects(w.s.projects.setRole(boss, 'solo', 'UBOSS', 'developer'), 'invalid');
    await rejects(w.s.projects.removeMember(boss, 'solo', 'UBOSS'), 'invalid');
    await w.s.projects.addMember(boss, 'solo', 'USECOND', 'admin');
    await w.s.projects.removeMember(boss, 'solo', 'UBOSS');
    const admin = w.user('USECOND');
    await rejects(w.s.projects.setRole(admin, 'solo', 'USECOND', 'viewer'), 'invalid');
    await w.s.projects.addMember(admin, 'solo', 'UDEMO', 'viewer');
    await w.s.projects.removeMember(admin, 'solo', 'UDEMO'); // non-admins leave freely
  });
});

describe('projects: last Admin under concurrency', () => {
  it('two Admins demoting or removing each other at once leave one Admin', async () => {
    const boss = w.user('UBOSS', true);
    for (let i = 0; i < 4; i++) {
      const name = `duel-${i}`;
      await w.s.projects.create(boss, name);
      await w.s.projects.addMember(boss, name, 'UA', 'admin');
      await w.s.projects.addMember(boss, name, 'UB', 'admin');
      await w.s.projects.removeMember(boss, name, 'UBOSS');
      const rs = await Promise.allSettled([
        i % 2 ? w.s.projects.setRole(w.user('UA'), name, 'UB', 'viewer') : w.s.projects.removeMember(w.user('UA'), name, 'UB'),
        w.s.projects.setRole(w.user('UB'), name, 'UA', 'developer'),
      ]);
      const p = await w.db.project.findFirstOrThrow({ where: { name } });
      expect(await w.db.membership.count({ where: { projectId: p.id, role: 'admin' } })).toBe(1);
      expect(rs.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    }
  });
});

describe('projects: channel and archive', () => {
  it('Admins set the alert channel; Developers cannot', async () => {
    const r = await w.s.projects.setChannel(w.user('UMA'), 'mem', 'C123');
    expect(r.alertChannelId).toBe('C123');
    await rejects(w.s.projects.setChannel(w.user('UMD'), 'mem', 'C999'), 'forbidden');
    const p = await w.db.project.findFirstOrThrow({ where: { name: 'mem' } });
    expect(p.alertChannelId).toBe('C123');
    const ev = await w.db.auditEvent.findFirstOrThrow({ where: { projectId: p.id, action: 'project.channel_set' } });
    expect(JSON.parse(ev.details)).toEqual({ channel: 'C123', previous: null });
  });

  it('only org admins archive; archiving revokes active keys and records KeyChange rows', async () => {
    const { boss, admin, dev } = await seedProject(w, 'arch', { admin: 'UAA', dev: 'UAD', viewer: 'UAV' });
    const k1 = await w.s.keys.create(dev, { project: 'arch', name: 'one' });
    const k2 = await w.s.keys.create(admin, { project: 'arch', name: 'two' });
    const k3 = await w.s.keys.create(admin, { project: 'arch', name: 'three' });
    await w.s.keys.revoke(admin, k3.key.id, 'old');
    await rejects(w.s.projects.archive(admin, 'arch'), 'forbidden');
    w.advance(1000);
    const changesBefore = await w.db.keyChange.count();
    const r = await w.s.projects.archive(boss, 'arch');
    expect(r.revokedKeys).toBe(2);
    const keys = await w.db.apiKey.findMany({ where: { projectId: r.project.id } });
    for (const k of keys) expect(k.status).toBe('revoked');
    const k1Row = keys.find((k) => k.id === k1.key.id)!;
    expect(k1Row).toMatchObject({ revokeReason: 'project archived', revokedBy: 'slack:UBOSS' });
    expect(k1Row.revokedAt!.getTime()).toBe(w.clock.getTime());
    expect(keys.find((k) => k.id === k3.key.id)!.revokeReason).toBe('old'); // untouched
    const changes = await w.db.keyChange.findMany({ orderBy: { id: 'asc' }, skip: changesBefore });
    expect(changes.map((c) => c.keyId).sort()).toEqual([k1.key.id, k2.key.id].sort());
    const ev = await w.db.auditEvent.findFirstOrThrow({ where: { projectId: r.project.id, action: 'project.archived' } });
    expect(JSON.parse(ev.details).revokedKeys.sort()).toEqual([k1.key.id, k2.key.id].sort());
    // Archived: hidden from lists, still shown, refuses changes and second archive.
    expect((await w.s.projects.list(admin)).map((p) => p.name)).not.toContain('arch');
    expect((await w.s.projects.show(admin, 'arch')).project.archivedAt).not.toBeNull();
    await rejects(w.s.keys.create(admin, { project: 'arch', name: 'new' }), 'invalid');
    await rejects(w.s.projects.addMember(admin, 'arch', 'UZ', 'viewer'), 'invalid');
    await rejects(w.s.projects.archive(boss, 'arch'), 'conflict');
    await rejects(w.s.projects.create(boss, 'arch'), 'conflict');
  });

  it('archiving while keys are being created never leaves an active key in an archived project', async () => {
    for (let i = 0; i < 4; i++) {
      const name = `arch-race-${i}`;
      const { boss, dev } = await seedProject(w, name, { admin: 'URA', dev: 'URD', viewer: 'URV' });
      const rs = await Promise.allSettled([
        w.s.keys.create(dev, { project: name, name: 'K1' }),
        w.s.projects.archive(boss, name),
        w.s.keys.create(dev, { project: name, name: 'K2' }),
      ]);
      expect(rs[1]!.status).toBe('fulfilled');
      const p = await w.db.project.findFirstOrThrow({ where: { name } });
      expect(p.archivedAt).not.toBeNull();
      expect(await w.db.apiKey.count({ where: { projectId: p.id, status: 'active' } })).toBe(0);
      for (const r of [rs[0]!, rs[2]!]) {
        if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('invalid');
        else {
          const id = (r.value as { key: { id: string } }).key.id;
          expect(await w.db.keyChange.count({ where: { keyId: id } })).toBe(2); // created, then revoked
        }
      }
    }
  });
});

describe('projects: offboarding removes access', () => {
  const row = (id: string) => w.db.apiKey.findUniqueOrThrow({ where: { id } });
  const changes = (id: string) => w.db.keyChange.count({ where: { keyId: id } });

  it('removing a member revokes their active keys in that project (and only there), with a KeyChange row', async () => {
    const { admin, dev, boss } = await seedProject(w, 'leave', { admin: 'ULA', dev: 'ULD', viewer: 'ULV' });
    await w.s.projects.create(boss, 'stay');
    await w.s.projects.addMember(boss, 'stay', 'ULD', 'developer');
    const mine = await w.s.keys.create(dev, { project: 'leave', name: 'mine' });
    const other = await w.s.keys.create(admin, { project: 'leave', name: 'admins' });
    const elsewhere = await w.s.keys.create(dev, { project: 'stay', name: 'elsewhere' });
    const preview = await w.s.projects.removalPreview(admin, 'leave', 'ULD');
    expect(preview.keys.map((k) => k.id)).toEqual([mine.key.id]);
    expect(preview.heirs.sort()).toEqual(['UBOSS', 'ULA']);
    const before = await changes(mine.key.id);
    const r = await w.s.projects.removeMember(admin, 'leave', 'ULD');
    expect(r.revokedKeys.map((k) => k.id)).toEqual([mine.key.id]);
    expect(await row(mine.key.id)).toMatchObject({ status: 'revoked', revokedBy: 'slack:ULA' });
    expect(await changes(mine.key.id)).toBe(before + 1);
    expect((await row(other.key.id)).status).toBe('active');
    expect((await row(elsewhere.key.id)).status).toBe('active');
    const ev = await w.db.auditEvent.findFirstOrThrow({ where: { action: 'member.removed', targetId: 'ULD' } });
    expect(JSON.parse(ev.details)).toMatchObject({ role: 'developer', keys: [mine.key.id], keysRevoked: true });
    expect(await w.db.auditEvent.count({ where: { action: 'key.revoked', targetId: mine.key.id } })).toBe(1);
  });

  it('or transfers them to an Admin or Developer of the project; a Viewer or outsider cannot take them', async () => {
    const { admin, dev } = await seedProject(w, 'handover', { admin: 'UHA', dev: 'UHD', viewer: 'UHV' });
    const k = await w.s.keys.create(dev, { project: 'handover', name: 'ci' });
    for (const heir of ['UHV', 'UNOBODY', 'UHD']) {
      await rejects(w.s.projects.removeMember(admin, 'handover', 'UHD', { transferTo: heir }), 'invalid');
    }
    expect(await w.db.membership.count({ where: { userId: 'UHD' } })).toBe(1);
    const r = await w.s.projects.removeMember(admin, 'handover', 'UHD', { transferTo: 'UHA' });
    expect(r.transferredKeys.map((x) => x.id)).toEqual([k.key.id]);
    expect(await row(k.key.id)).toMatchObject({ status: 'active', ownerId: 'UHA' });
    const ev = await w.db.auditEvent.findFirstOrThrow({ where: { action: 'key.transferred', targetId: k.key.id } });
    expect(JSON.parse(ev.details)).toMatchObject({ from: 'UHD', to: 'UHA' });
  });

  it('a review Revoke of a membership revokes the member\'s keys too', async () => {
    const { boss, dev } = await seedProject(w, 'reviewed', { admin: 'URVA', dev: 'URVD', viewer: 'URVV' });
    const k = await w.s.keys.create(dev, { project: 'reviewed', name: 'kept alive' });
    const started = await w.s.reviews.start(boss);
    const item = started!.items.find((i) => i.kind === 'membership' && i.subjectId === 'URVD' && i.projectName === 'reviewed')!;
    await w.s.reviews.decide(boss, item.id, 'revoke');
    expect(await w.db.membership.count({ where: { userId: 'URVD' } })).toBe(0);
    expect((await row(k.key.id)).status).toBe('revoked');
    await w.s.reviews.close(boss, 'keep');
  });

  it('a deactivated Slack user loses every key and membership in the org, once; a last Admin is removed and reported', async () => {
    const boss = w.user('UBOSS', true);
    await w.s.projects.create(boss, 'gone-a');
    await w.s.projects.addMember(boss, 'gone-a', 'UGONE', 'developer');
    await w.s.projects.create(cliActor(w.orgId, 'ops'), 'gone-b');
    await w.s.projects.addMember(boss, 'gone-b', 'UGONE', 'admin');
    const a = await w.s.keys.create(w.user('UGONE'), { project: 'gone-a', name: 'a' });
    const b = await w.s.keys.create(w.user('UGONE'), { project: 'gone-b', name: 'b' });
    expect(await w.s.projects.offboard('T_NOT_A_KEYWARD_ORG', 'UGONE', 'deactivated')).toBeNull();
    const r = await w.s.projects.offboard('T_MAIN', 'UGONE', 'deactivated');
    expect(r!.projects.map((p) => [p.projectName, p.role, p.revokedKeys.map((k) => k.id), p.withoutAdmin]).sort()).toEqual([
      ['gone-a', 'developer', [a.key.id], false],
      ['gone-b', 'admin', [b.key.id], true],
    ]);
    expect(r!.projects.find((p) => p.projectName === 'gone-a')!.admins).toEqual(['UBOSS']);
    for (const k of [a, b]) expect(await row(k.key.id)).toMatchObject({ status: 'revoked', revokedBy: 'system' });
    expect(await w.db.membership.count({ where: { userId: 'UGONE' } })).toBe(0);
    const audits = await w.db.auditEvent.count();
    const again = await w.s.projects.offboard('T_MAIN', 'UGONE', 'left');
    expect(again!.projects).toEqual([]);
    expect(await w.db.auditEvent.count()).toBe(audits);
  });
});
