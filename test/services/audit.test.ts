import { describe, expect, it } from 'vitest';
import { listAudit } from '../../src/services/audit.js';
import { cliActor } from '../../src/services/index.js';
import { serviceWorld } from './setup.js';

const w = serviceWorld();

describe('audit log', () => {
  it('every action writes exactly one event with its actor, and no event holds a secret', async () => {
    const boss = w.user('UBOSS', true);
    const admin = w.user('UADM');
    const dev = w.user('UDEV');
    const secrets: string[] = [];
    const expectOne = async (action: string, actor: string, run: () => Promise<unknown>) => {
      const before = await w.db.auditEvent.count();
      w.advance(1000);
      await run();
      const added = await w.db.auditEvent.findMany({ orderBy: { createdAt: 'desc' }, take: (await w.db.auditEvent.count()) - before });
      expect(added.map((e) => [e.action, e.actor])).toEqual([[action, actor]]);
      expect(added[0]!.orgId).toBe(w.orgId);
      expect(added[0]!.createdAt.getTime()).toBe(w.clock.getTime());
      return added[0]!;
    };

    const created = await expectOne('project.created', 'slack:UBOSS', () => w.s.projects.create(boss, 'audited', 'desc'));
    expect(created).toMatchObject({ projectId: expect.any(String), targetType: 'project' });
    await expectOne('member.added', 'slack:UBOSS', () => w.s.projects.addMember(boss, 'audited', 'UADM', 'admin'));
    await expectOne('member.added', 'slack:UADM', () => w.s.projects.addMember(admin, 'audited', 'UDEV', 'viewer'));
    await expectOne('member.role_changed', 'slack:UADM', () => w.s.projects.setRole(admin, 'audited', 'UDEV', 'developer'));
    await expectOne('project.channel_set', 'slack:UADM', () => w.s.projects.setChannel(admin, 'audited', 'C42'));
    let keyId = '';
    const ev = await expectOne('key.created', 'slack:UDEV', async () => {
      const k = await w.s.keys.create(dev, { project: 'audited', name: 'Audited Key', scope: 'full', environment: 'prod' });
      secrets.push(k.secret);
      keyId = k.key.id;
    });
    expect(ev).toMatchObject({ targetType: 'key', targetId: keyId });
    expect(JSON.parse(ev.details)).toMatchObject({ name: 'Audited Key', scope: 'full', environment: 'prod', owner: 'UDEV' });
    let undo: Awaited<ReturnType<typeof w.s.keys.rotate>>['undo'] | null = null;
    await expectOne('key.rotated', 'slack:UDEV', async () => {
      const r = await w.s.keys.rotate(dev, keyId);
      secrets.push(r.secret);
      undo = r.undo;
    });
    await expectOne('key.rotation_undone', 'slack:UDEV', () => w.s.keys.undoRotation(dev, undo!, 'delivery failed'));
    await expectOne('key.rotated', 'slack:UADM', async () => secrets.push((await w.s.keys.rotate(admin, keyId, 0)).secret));
    const stash = await w.s.pendingSecrets.stash(keyId, 'UDEV', secrets.at(-1)!);
    await expectOne('key.secret_revealed', 'slack:UDEV', () => w.s.pendingSecrets.reveal(dev, stash.id));
    await expectOne('key.revoked', 'slack:UADM', () => w.s.keys.revoke(admin, keyId, 'done'));
    const cli = cliActor(w.orgId, 'ops');
    await expectOne('key.created', 'cli:ops', async () => secrets.push((await w.s.keys.create(cli, { project: 'audited', name: 'CLI Key' })).secret));
    await expectOne('member.removed', 'cli:ops', () => w.s.projects.removeMember(cli, 'audited', 'UDEV'));
    await expectOne('project.archived', 'slack:UBOSS', () => w.s.projects.archive(boss, 'audited'));

    // Refusals write nothing.
    const before = await w.db.auditEvent.count();
    await w.s.projects.create(w.user('UDEV'), 'nope').catch(() => {});
    await w.s.keys.revoke(dev, keyId).catch(() => {});
    await w.s.pendingSecrets.reveal(dev, stash.id).catch(() => {});
    expect(await w.db.auditEvent.count()).toBe(before);

    const all = await w.db.auditEvent.findMany();
    const text = JSON.stringify(all);
    expect(secrets).toHaveLength(4);
    for (const s of secrets) {
      expect(text).not.toContain(s);
      expect(text).not.toContain(s.slice(6, -4)); // not even the random part without its ends
    }
  });

  it('listAudit filters by project, actor and time, newest first', async () => {
    const p = await w.db.project.findFirstOrThrow({ where: { name: 'audited' } });
    const all = await listAudit(w.db, { orgId: w.orgId, projectId: p.id, limit: 100 });
    expect(all.length).toBeGreaterThan(10);
    expect(all[0]!.action).toBe('project.archived');
    expect(all.at(-1)!.action).toBe('project.created');
    expect(all.map((e) => e.action)).toContain('key.secret_revealed'); // project Admins see reveals too
    expect(typeof all[0]!.details).toBe('object');
    const byCli = await listAudit(w.db, { orgId: w.orgId, actor: 'cli:ops' });
    expect(byCli.map((e) => e.action).sort()).toEqual(['key.created', 'member.removed']);
    const recent = await listAudit(w.db, { orgId: w.orgId, since: new Date(w.clock.getTime() - 1000) });
    expect(recent.map((e) => e.action)).toEqual(['project.archived', 'member.removed']);
    expect(await listAudit(w.db, { orgId: 'org_other' })).toEqual([]);
    expect(await listAudit(w.db, { orgId: w.orgId, limit: 3 })).toHaveLength(3);
  });
});
