import { describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../src/domain/durations.js';
import { hashSecret, looksLikeSecret } from '../../src/domain/keys.js';
import { cliActor } from '../../src/services/index.js';
import { SERVER_SECRET, rejects, seedProject, serviceWorld } from './setup.js';

const w = serviceWorld();
let team: Awaited<ReturnType<typeof seedProject>>;
const row = (id: string) => w.db.apiKey.findUniqueOrThrow({ where: { id } });

describe('keys: create', () => {
  it('makes an active key with defaults; stores only the hash and hint', async () => {
    team = await seedProject(w, 'app');
    const r = await w.s.keys.create(team.dev, { project: 'app', name: '  Production   App ' });
    expect(looksLikeSecret(r.secret)).toBe(true);
    expect(r.projectName).toBe('app');
    expect(r.key).toMatchObject({
      name: 'Production App', scope: 'inference', environment: 'dev', ownerId: 'UDEV', status: 'active',
      expiresAt: null, rpm: null, hint: `sk-kw-…${r.secret.slice(-4)}`,
    });
    expect(r.key.id).toMatch(/^key_/);
    expect(r.key).not.toHaveProperty('secretHash');
    const stored = await row(r.key.id);
    expect(stored.secretHash).toBe(hashSecret(SERVER_SECRET, r.secret));
    expect(stored.createdBy).toBe('slack:UDEV');
    expect(stored.createdAt.getTime()).toBe(w.clock.getTime());
    expect(JSON.stringify(stored)).not.toContain(r.secret);
    expect(await w.db.keyChange.count({ where: { keyId: r.key.id } })).toBe(1);
  });

  it('honours scope, environment, expiry, rpm and owner flags', async () => {
    const r = await w.s.keys.create(team.admin, {
      project: 'APP', name: 'Flags', scope: 'read-only', environment: 'prod', expiresInMs: 30 * DAY, rpm: 60, ownerId: 'UDEV',
    });
    expect(r.key).toMatchObject({ scope: 'read-only', environment: 'prod', rpm: 60, ownerId: 'UDEV' });
    expect(r.key.expiresAt!.getTime()).toBe(w.clock.getTime() + 30 * DAY);
    expect((await row(r.key.id)).scope).toBe('read_only');
    const cli = await w.s.keys.create(cliActor(w.orgId, 'ops'), { project: 'app', name: 'From CLI', scope: 'full' });
    expect(cli.key.ownerId).toBe('cli:ops');
  });

  it('refuses bad input and changes nothing', async () => {
    const before = await w.db.apiKey.count();
    await rejects(w.s.keys.create(team.dev, { project: 'app', name: '' }), 'invalid');
    await rejects(w.s.keys.create(team.dev, { project: 'app', name: 'x'.repeat(5000) }), 'invalid');
    await rejects(w.s.keys.create(team.dev, { project: 'app', name: '"; DROP TABLE' }), 'invalid');
    for (const rpm of [0, -1, 1.5, 2_000_000]) await rejects(w.s.keys.create(team.dev, { project: 'app', name: 'r', rpm }), 'invalid');
    await rejects(w.s.keys.create(team.dev, { project: 'nope', name: 'k' }), 'not_found');
    expect(await w.db.apiKey.count()).toBe(before);
  });

  it('names are unique among the project\'s active keys only', async () => {
    const dup = await rejects(w.s.keys.create(team.admin, { project: 'app', name: 'Production App' }), 'conflict');
    expect(dup.message).toMatch(/key_/);
    const gone = await w.s.keys.create(team.admin, { project: 'app', name: 'Reusable' });
    await w.s.keys.revoke(team.admin, gone.key.id);
    await w.s.keys.create(team.admin, { project: 'app', name: 'Reusable' });
    await rejects(w.s.keys.create(team.admin, { project: 'app', name: 'production APP' }), 'conflict');
  });

  it('an expired key cannot be rotated', async () => {
    const k = await w.s.keys.create(team.admin, { project: 'app', name: 'Short Lived', expiresInMs: DAY });
    w.clock = new Date(w.clock.getTime() + 2 * DAY);
    try {
      const e = await rejects(w.s.keys.rotate(team.admin, k.key.id), 'conflict');
      expect(e.message).toMatch(/expired/);
    } finally {
      w.clock = new Date(w.clock.getTime() - 2 * DAY);
    }
  });

  it('concurrent creates of one name (different requests) leave one active key', async () => {
    const rs = await Promise.allSettled([1, 2, 3].map(() => w.s.keys.create(team.dev, { project: 'app', name: 'Raced Name' })));
    expect(rs.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of rs) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('conflict');
    expect(await w.db.apiKey.count({ where: { name: 'Raced Name', status: 'active' } })).toBe(1);
  });

  it('only Admins create keys owned by someone else', async () => {
    const e = await rejects(w.s.keys.create(team.dev, { project: 'app', name: 'For Admin', ownerId: 'UADM' }), 'forbidden');
    expect(e.message).toMatch(/someone else/);
    expect(await w.db.apiKey.count({ where: { name: 'For Admin' } })).toBe(0);
    expect((await w.s.keys.create(team.dev, { project: 'app', name: 'Mine', ownerId: 'UDEV' })).key.ownerId).toBe('UDEV');
    expect((await w.s.keys.create(team.admin, { project: 'app', name: 'For Dev', ownerId: 'UDEV' })).key.ownerId).toBe('UDEV');
  });

  it('Viewers and outsiders cannot create keys', async () => {
    const e = await rejects(w.s.keys.create(team.viewer, { project: 'app', name: 'v' }), 'forbidden');
    expect(e.message).toMatch(/Viewers cannot create keys/);
    await rejects(w.s.keys.create(w.user('UOUT'), { project: 'app', name: 'o' }), 'not_found');
  });
});

describe('keys: list and show', () => {
  it('members list the project\'s keys; outsiders cannot see them', async () => {
    const names = (await w.s.keys.list(team.viewer, 'app')).map((k) => k.name);
    expect(names).toContain('Production App');
    expect((await w.s.keys.list(team.viewer)).every((k) => k.projectName === 'app')).toBe(true);
    await rejects(w.s.keys.list(w.user('UOUT'), 'app'), 'not_found');
    expect(await w.s.keys.list(w.user('UOUT'))).toEqual([]);
    const [k] = await w.s.keys.list(team.viewer, 'app');
    expect(await w.s.keys.show(team.viewer, k!.id)).toMatchObject({ id: k!.id, projectName: 'app' });
    await rejects(w.s.keys.show(w.user('UOUT'), k!.id), 'not_found');
    await rejects(w.s.keys.show(team.viewer, 'key_doesnotexist00'), 'not_found');
    const bad = await rejects(w.s.keys.show(team.viewer, 'x'.repeat(5000)), 'invalid');
    expect(bad.message.length).toBeLessThan(200);
  });

  it('views never carry the secret hash, current or previous', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'app', name: 'View Check' });
    await w.s.keys.rotate(team.dev, k.key.id);
    const stored = await row(k.key.id);
    const views = JSON.stringify([await w.s.keys.list(team.admin), await w.s.keys.list(team.admin, 'app'), await w.s.keys.show(team.dev, k.key.id)]);
    expect(views).toContain(k.key.id);
    for (const h of [stored.secretHash, stored.prevSecretHash!]) expect(views).not.toContain(h);
    expect(views).not.toMatch(/secretHash/i);
  });

  it('inactive keys only when asked', async () => {
    const active = await w.s.keys.list(team.admin, 'app');
    const all = await w.s.keys.list(team.admin, 'app', { includeInactive: true });
    expect(active.every((k) => k.status === 'active')).toBe(true);
    expect(all.some((k) => k.status === 'revoked')).toBe(true);
  });
});

describe('keys: revoke', () => {
  it('Developers revoke their own keys only; Viewers none; Admins any', async () => {
    const mine = await w.s.keys.create(team.dev, { project: 'app', name: 'dev own' });
    const adminKey = await w.s.keys.create(team.admin, { project: 'app', name: 'admin own' });
    const e = await rejects(w.s.keys.revoke(team.dev, adminKey.key.id), 'forbidden');
    expect(e.message).toMatch(/only their own keys/);
    await rejects(w.s.keys.revoke(team.viewer, mine.key.id), 'forbidden');
    await rejects(w.s.keys.revoke(w.user('UOUT'), mine.key.id), 'not_found');
    expect((await row(mine.key.id)).status).toBe('active');
    expect((await row(adminKey.key.id)).status).toBe('active');

    w.advance(HOUR);
    const r = await w.s.keys.revoke(team.dev, mine.key.id, '  leaked in a log  ');
    expect(r).toMatchObject({ status: 'revoked', revokedBy: 'slack:UDEV', revokeReason: 'leaked in a log' });
    expect(r.revokedAt!.getTime()).toBe(w.clock.getTime());
    const other = await w.s.keys.create(team.dev, { project: 'app', name: 'dev other' });
    expect((await w.s.keys.revoke(team.admin, other.key.id)).revokeReason).toBeNull();
    await w.s.keys.revoke(team.boss, adminKey.key.id, 'x'.repeat(5000));
    expect((await row(adminKey.key.id)).revokeReason).toHaveLength(500);
  });

  it('revoking twice is a conflict and writes nothing more', async () => {
    const k = await w.s.keys.create(team.admin, { project: 'app', name: 'twice' });
    await w.s.keys.revoke(team.admin, k.key.id);
    const events = await w.db.auditEvent.count({ where: { targetId: k.key.id } });
    await rejects(w.s.keys.revoke(team.admin, k.key.id), 'conflict');
    await rejects(w.s.keys.rotate(team.admin, k.key.id), 'conflict');
    expect(await w.db.auditEvent.count({ where: { targetId: k.key.id } })).toBe(events);
  });
});

describe('keys: rotate', () => {
  it('new secret and hash, same identity; the old hash stays valid until the grace end', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'app', name: 'rotating', scope: 'full', environment: 'staging' });
    const before = await row(k.key.id);
    w.advance(HOUR);
    const r = await w.s.keys.rotate(team.dev, k.key.id);
    expect(r.secret).not.toBe(k.secret);
    expect(looksLikeSecret(r.secret)).toBe(true);
    const after = await row(k.key.id);
    expect(after).toMatchObject({
      id: before.id, name: 'rotating', scope: 'full', environment: 'staging', ownerId: 'UDEV', status: 'active',
      secretHash: hashSecret(SERVER_SECRET, r.secret), prevSecretHash: before.secretHash, prevHint: before.hint,
      hint: `sk-kw-…${r.secret.slice(-4)}`,
    });
    expect(after.graceEndsAt!.getTime()).toBe(w.clock.getTime() + 24 * HOUR);
    expect(after.rotatedAt!.getTime()).toBe(w.clock.getTime());
    expect(r.key.prevHint).toBe(k.key.hint);
    expect(JSON.stringify(after)).not.toContain(r.secret);
  });

  it('--grace is honoured; 0 ends the old secret at once', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'app', name: 'grace' });
    await w.s.keys.rotate(team.dev, k.key.id, 2 * HOUR);
    expect((await row(k.key.id)).graceEndsAt!.getTime()).toBe(w.clock.getTime() + 2 * HOUR);
    const r = await w.s.keys.rotate(team.dev, k.key.id, 0);
    expect(await row(k.key.id)).toMatchObject({ prevSecretHash: null, prevHint: null, graceEndsAt: null, secretHash: hashSecret(SERVER_SECRET, r.secret) });
  });

  it('a second rotation keeps only the secret it replaced', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'app', name: 'twice rotated' });
    const r1 = await w.s.keys.rotate(team.dev, k.key.id);
    w.advance(HOUR);
    const r2 = await w.s.keys.rotate(team.dev, k.key.id);
    const now = await row(k.key.id);
    expect(now.secretHash).toBe(hashSecret(SERVER_SECRET, r2.secret));
    expect(now.prevSecretHash).toBe(hashSecret(SERVER_SECRET, r1.secret));
    const all = JSON.stringify(await w.db.apiKey.findMany());
    expect(all).not.toContain(hashSecret(SERVER_SECRET, k.secret));
  });

  it('permissions: Developer own only, Viewer none, Admin any', async () => {
    const adminKey = await w.s.keys.create(team.admin, { project: 'app', name: 'adm rot' });
    const devKey = await w.s.keys.create(team.dev, { project: 'app', name: 'dev rot' });
    await rejects(w.s.keys.rotate(team.dev, adminKey.key.id), 'forbidden');
    await rejects(w.s.keys.rotate(team.viewer, devKey.key.id), 'forbidden');
    await rejects(w.s.keys.rotate(w.user('UOUT'), devKey.key.id), 'not_found');
    expect((await row(adminKey.key.id)).rotatedAt).toBeNull();
    await w.s.keys.rotate(team.admin, devKey.key.id);
    await w.s.keys.rotate(team.boss, adminKey.key.id);
  });

  it('undoRotation restores the key exactly as before the rotation (a KeyChange row tells the gateways)', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'app', name: 'undo' });
    const original = await row(k.key.id);
    const r = await w.s.keys.rotate(team.dev, k.key.id);
    const changes = await w.db.keyChange.count({ where: { keyId: k.key.id } });
    expect(await w.s.keys.undoRotation(team.dev, r.undo, 'DM failed')).toBe(true);
    expect(await row(k.key.id)).toMatchObject({
      secretHash: original.secretHash, hint: original.hint, prevSecretHash: null, graceEndsAt: null, rotatedAt: null, status: 'active',
    });
    expect(await w.db.keyChange.count({ where: { keyId: k.key.id } })).toBe(changes + 1);
    const ev = await w.db.auditEvent.findFirstOrThrow({ where: { targetId: k.key.id, action: 'key.rotation_undone' } });
    expect(JSON.parse(ev.details)).toEqual({ reason: 'DM failed' });
  });

  it('undoRotation after --grace 0 brings the old secret back instead of revoking the key', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'app', name: 'undo zero' });
    const original = await row(k.key.id);
    const r = await w.s.keys.rotate(team.dev, k.key.id, 0);
    expect((await row(k.key.id)).prevSecretHash).toBeNull();
    expect(await w.s.keys.undoRotation(team.dev, r.undo, 'DM failed')).toBe(true);
    expect(await row(k.key.id)).toMatchObject({ secretHash: original.secretHash, hint: original.hint, status: 'active' });
  });

  it('undoRotation never undoes a later rotation: it applies only while its own rotation is current', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'app', name: 'undo race' });
    const first = await w.s.keys.rotate(team.dev, k.key.id);
    const second = await w.s.keys.rotate(team.admin, k.key.id);
    expect(await w.s.keys.undoRotation(team.dev, first.undo, 'DM failed')).toBe(false);
    const now = await row(k.key.id);
    expect(now.secretHash).toBe(hashSecret(SERVER_SECRET, second.secret));
    expect(now.prevSecretHash).toBe(hashSecret(SERVER_SECRET, first.secret));
    expect(await w.db.auditEvent.count({ where: { targetId: k.key.id, action: 'key.rotation_undone' } })).toBe(0);
    // The second rotation's own undo still works, and a revoked key stays revoked.
    expect(await w.s.keys.undoRotation(team.admin, second.undo, 'DM failed')).toBe(true);
    expect((await row(k.key.id)).secretHash).toBe(hashSecret(SERVER_SECRET, first.secret));
    const third = await w.s.keys.rotate(team.dev, k.key.id);
    await w.s.keys.revoke(team.admin, k.key.id, 'gone');
    expect(await w.s.keys.undoRotation(team.dev, third.undo, 'DM failed')).toBe(false);
    expect((await row(k.key.id)).status).toBe('revoked');
  });

  it('two concurrent rotations of one key: one wins, the other is told to retry', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'app', name: 'rot race' });
    const rs = await Promise.allSettled([w.s.keys.rotate(team.dev, k.key.id), w.s.keys.rotate(team.dev, k.key.id)]);
    const ok = rs.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ secret: string }>[];
    expect(ok.length).toBeGreaterThanOrEqual(1);
    const last = await row(k.key.id);
    expect(ok.map((r) => hashSecret(SERVER_SECRET, r.value.secret))).toContain(last.secretHash);
    for (const r of rs) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('conflict');
  });
});
