import { describe, expect, it } from 'vitest';
import { createTotpService, DbTotpRepository } from '../../src/services/twofactor-repo.js';
import { startEnrollment } from '../../src/domain/totp.js';
import { cliActor, systemActor } from '../../src/services/index.js';
import { seedProject, serviceWorld, SERVER_SECRET } from './setup.js';

const w = serviceWorld();

describe('governance services on the database', () => {
  it('the quarterly review starts exactly once per org and quarter, even when run concurrently', async () => {
    await seedProject(w, 'quarter');
    // The org existed before the quarter started: move the clock into the next quarter.
    w.clock = new Date('2027-01-01T00:10:00Z');
    const runs = await Promise.all([w.s.reviews.startQuarterly(), w.s.reviews.startQuarterly()]);
    expect(runs.flat()).toHaveLength(1);
    expect(await w.s.reviews.startQuarterly()).toHaveLength(0);
    const campaigns = await w.db.reviewCampaign.findMany();
    expect(campaigns).toHaveLength(1);
    expect(campaigns[0]).toMatchObject({ slot: '2027-Q1', status: 'open', startedBy: 'system' });
    // Memberships (boss, admin, dev, viewer) are snapshotted; a new member is not a review item.
    expect(await w.db.reviewItem.count({ where: { kind: 'membership' } })).toBe(4);
    await w.s.reviews.close(systemActor(w.orgId), 'keep');
  });

  it('two approvers deciding at once: exactly one decision and one key', async () => {
    const team = await seedProject(w, 'race', { admin: 'URACEA', dev: 'URACED', viewer: 'URACEV' });
    const r = await w.s.approvals.createOrRequest(team.dev, { project: 'race', name: 'Raced', environment: 'prod' }, []);
    expect(r.kind).toBe('requested');
    const id = r.kind === 'requested' ? r.request.id : '';
    const outcomes = await Promise.allSettled([w.s.approvals.approve(team.admin, id), w.s.approvals.approve(team.boss, id), w.s.approvals.deny(team.boss, id, 'no')]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(await w.db.apiKey.count({ where: { name: 'Raced' } })).toBeLessThanOrEqual(1);
    const row = await w.db.approvalRequest.findUniqueOrThrow({ where: { id } });
    expect(['approved', 'denied']).toContain(row.status);
    expect(await w.db.auditEvent.count({ where: { targetId: id, action: { in: ['approval.approved', 'approval.denied'] } } })).toBe(1);
  });

  it('a project with no other Admin and no org admin to ask refuses the request up front', async () => {
    // Made from the CLI: the project has no Admin member at all.
    const cli = cliActor(w.orgId, 'ops');
    await w.s.projects.create(cli, 'lonely');
    await w.s.projects.addMember(cli, 'lonely', 'ULONE', 'developer');
    await expect(w.s.approvals.createOrRequest(w.user('ULONE'), { project: 'lonely', name: 'K', environment: 'prod' }, [])).rejects.toThrow(/Nobody can approve/);
  });

  it('the TOTP repository is a compare-and-set on the version (one code accepted once across replicas)', async () => {
    const repo = new DbTotpRepository(w.db);
    const e = startEnrollment(SERVER_SECRET, { orgId: w.orgId, userId: 'UCAS', account: 'cas' }, null, w.clock);
    const inserts = await Promise.all([repo.save(e.record, null), repo.save(e.record, null)]);
    expect(inserts.filter(Boolean)).toHaveLength(1);
    const next = { ...e.record, failedAttempts: 1, version: e.record.version + 1 };
    const updates = await Promise.all([repo.save(next, e.record.version), repo.save({ ...next, failedAttempts: 2 }, e.record.version)]);
    expect(updates.filter(Boolean)).toHaveLength(1);
    expect((await repo.get(w.orgId, 'UCAS'))!.version).toBe(e.record.version + 1);
    expect(await repo.delete(w.orgId, 'UCAS')).toBe(true);
    expect(await repo.delete(w.orgId, 'UCAS')).toBe(false);
    expect(createTotpService(w.s.deps)).toBeDefined();
  });
});
