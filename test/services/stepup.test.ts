/** Services enforce step-up themselves (SQLite, and PostgreSQL with TEST_DATABASE_URL). */
import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { StepUpRequired } from '../../src/domain/stepup.js';
import { openSecret, type TotpRecord } from '../../src/domain/totp.js';
import { cliActor, type Actor } from '../../src/services/context.js';
import { PROOF_TTL_MS } from '../../src/services/totp.js';
import { rejects, seedProject, serviceWorld } from './setup.js';

const w = serviceWorld();

async function codeOf(who: Actor) {
  const row = (await w.db.totpEnrollment.findFirstOrThrow({ where: { orgId: who.orgId, userId: who.userId! } })) as TotpRecord;
  return generate({ secret: openSecret(w.s.deps.secret, row), epoch: Math.floor(w.clock.getTime() / 1000) });
}
const wrongOf = (c: string) => String((Number(c) + 1) % 1_000_000).padStart(6, '0');
async function enroll(who: Actor) {
  await w.s.totp.enroll(who);
  await w.s.totp.verify(who, await codeOf(who));
  w.advance(30_000);
}

describe('service-level step-up', () => {
  it('an enrolled Admin adding an Admin: no code → StepUpRequired, wrong → nothing, right → added; a Developer needs none', async () => {
    const { admin } = await seedProject(w, 'alpha');
    await enroll(admin);
    const e = await rejects(w.s.projects.addMember(admin, 'alpha', 'UNEW', 'admin'), 'forbidden');
    expect(e).toBeInstanceOf(StepUpRequired);
    await rejects(w.s.projects.addMember(admin, 'alpha', 'UNEW', 'admin', wrongOf(await codeOf(admin))), 'forbidden');
    expect(await w.db.membership.count({ where: { userId: 'UNEW' } })).toBe(0);
    await w.s.projects.addMember(admin, 'alpha', 'UNEW', 'admin', await codeOf(admin));
    expect((await w.db.membership.findFirstOrThrow({ where: { userId: 'UNEW' } })).role).toBe('admin');
    await w.s.projects.addMember(admin, 'alpha', 'UDEVNEW', 'developer');
  });

  it('removal, policy and review close with revoke refuse without a code; the CLI is exempt', async () => {
    const { admin, boss } = await seedProject(w, 'beta', { admin: 'UADM2', dev: 'UDEV2', viewer: 'UVIEW2' });
    await enroll(admin);
    await rejects(w.s.projects.removeMember(admin, 'beta', 'UDEV2'), 'forbidden');
    await rejects(w.s.approvals.setPolicy(admin, 'beta', 'approval=none'), 'forbidden');
    expect(await w.db.membership.count({ where: { userId: 'UDEV2' } })).toBe(1);
    expect((await w.db.project.findFirstOrThrow({ where: { name: 'beta' } })).approvalPolicy).toBe('prod');
    await enroll(boss);
    await w.s.reviews.start(boss, { dueDays: 7 });
    await rejects(w.s.reviews.close(boss, 'revoke'), 'forbidden');
    expect((await w.db.reviewCampaign.findFirstOrThrow()).status).toBe('open');
    const cli = cliActor(w.orgId, 'ops');
    await w.s.projects.removeMember(cli, 'beta', 'UDEV2');
    await w.s.approvals.setPolicy(cli, 'beta', 'approval=none');
    expect(await w.db.membership.count({ where: { userId: 'UDEV2' } })).toBe(0);
  });

  it('a prod key created without approval needs the code; a proof is bound to its user and expires', async () => {
    const cli = cliActor(w.orgId, 'ops');
    await w.s.projects.create(cli, 'gamma');
    await w.s.projects.addMember(cli, 'gamma', 'UADM3', 'admin');
    const admin = w.user('UADM3');
    await enroll(admin);
    await rejects(w.s.approvals.createOrRequest(admin, { project: 'gamma', name: 'Live', environment: 'prod' }, []), 'forbidden');
    const dev = await w.s.approvals.createOrRequest(admin, { project: 'gamma', name: 'Dev', environment: 'dev' }, []);
    expect(dev.kind).toBe('created');
    const proof = await w.s.totp.prove(admin, await codeOf(admin), 'key.create');
    const other = w.user('UADM'); // enrolled in the first test
    await rejects(w.s.approvals.createOrRequest(other, { project: 'alpha', name: 'Stolen', environment: 'prod' }, [], proof), 'forbidden');
    await rejects(w.s.approvals.createOrRequest(admin, { project: 'gamma', name: 'Live', environment: 'prod' }, [], { ...proof! }), 'forbidden');
    const made = await w.s.approvals.createOrRequest(admin, { project: 'gamma', name: 'Live', environment: 'prod' }, [], proof);
    expect(made.kind).toBe('created');
    w.advance(PROOF_TTL_MS + 1);
    await rejects(w.s.approvals.createOrRequest(admin, { project: 'gamma', name: 'Later', environment: 'prod' }, [], proof), 'forbidden');
    expect(await w.db.apiKey.count({ where: { name: { in: ['Stolen', 'Later'] } } })).toBe(0);
  });
});
