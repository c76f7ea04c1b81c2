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

  it('revoking or rotating a prod key and changing limits need the code at the service; the CLI is exempt', async () => {
    const cli = cliActor(w.orgId, 'ops');
    await w.s.projects.create(cli, 'delta');
    await w.s.projects.addMember(cli, 'delta', 'UADM4', 'admin');
    await w.s.projects.addMember(cli, 'delta', 'UOTH4', 'admin');
    const [admin, other] = [w.user('UADM4'), w.user('UOTH4')];
    await enroll(admin);
    await enroll(other);
    const prodKey = async (name: string) => (await w.s.keys.create(cli, { project: 'delta', name, environment: 'prod', ownerId: 'UADM4' })).key.id;
    const live = await prodKey('Live');
    const key = () => w.db.apiKey.findUniqueOrThrow({ where: { id: live } });
    const before = await key();
    const { id: projectId } = await w.db.project.findFirstOrThrow({ where: { name: 'delta' } });
    const limit = () => w.db.limit.findFirst({ where: { projectId } });
    const othersProof = await w.s.totp.prove(other, await codeOf(other), 'key.revoke');
    w.advance(30_000);

    for (const step of [undefined, wrongOf(await codeOf(admin)), othersProof]) {
      const noCode = await rejects(w.s.keys.revoke(admin, live, 'gone', undefined, step), 'forbidden');
      expect(noCode instanceof StepUpRequired).toBe(step === undefined);
      await rejects(w.s.keys.rotate(admin, live, 0, undefined, step), 'forbidden');
      await rejects(w.s.limits.set(admin, 'delta', ['hard=10'], step), 'forbidden');
    }
    expect(await rejects(w.s.limits.set(admin, 'delta', ['webhook-secret=rotate']), 'forbidden')).toBeInstanceOf(StepUpRequired);
    expect(await key()).toMatchObject({ status: 'active', secretHash: before.secretHash });
    expect(await limit()).toBeNull();

    // A dev key needs no code; a good code or a fresh proof of one's own acts.
    const dev = await w.s.keys.create(cli, { project: 'delta', name: 'Dev', environment: 'dev', ownerId: 'UADM4' });
    expect((await w.s.keys.rotate(admin, dev.key.id, 0)).key.id).toBe(dev.key.id);
    expect((await w.s.keys.revoke(admin, dev.key.id, 'done')).status).toBe('revoked');
    w.advance(30_000);
    await w.s.keys.rotate(admin, live, 0, undefined, await codeOf(admin));
    expect((await key()).secretHash).not.toBe(before.secretHash);
    w.advance(30_000);
    const proof = await w.s.totp.prove(admin, await codeOf(admin), 'limits.set');
    expect((await w.s.limits.set(admin, 'delta', ['hard=10'], proof)).hardMicros).toBe(10_000_000n);
    expect((await w.s.keys.revoke(admin, live, 'done', undefined, proof)).status).toBe('revoked');

    // The CLI acts without a code.
    const ops = await prodKey('Ops');
    await w.s.keys.rotate(cli, ops, 0);
    expect((await w.s.keys.revoke(cli, ops, 'done')).status).toBe('revoked');
    expect((await w.s.limits.set(cli, 'delta', ['hard=20'])).hardMicros).toBe(20_000_000n);
  });

  it("a reviewer's code for a review Revoke carries to the prod key it revokes", async () => {
    const cli = cliActor(w.orgId, 'ops');
    const boss = w.user('UBOSS', true); // enrolled earlier in this file
    await w.s.reviews.close(cli, 'keep').catch(() => undefined); // a review left open by an earlier test
    await w.s.projects.create(cli, 'epsilon');
    const k = await w.s.keys.create(cli, { project: 'epsilon', name: 'Live', environment: 'prod', ownerId: 'UEPS' });
    const started = await w.s.reviews.start(boss);
    const item = started!.items.find((i) => i.kind === 'key' && i.subjectId === k.key.id)!;
    w.advance(30_000);
    await w.s.reviews.decide(boss, item.id, 'revoke', { step: await codeOf(boss) });
    expect((await w.db.apiKey.findUniqueOrThrow({ where: { id: k.key.id } })).status).toBe('revoked');
    await w.s.reviews.close(boss, 'keep');
  });
});
