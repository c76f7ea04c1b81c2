import { describe, expect, it } from 'vitest';
import { DuplicateRequest } from '../../src/services/idempotency.js';
import { seedProject, serviceWorld } from './setup.js';

const w = serviceWorld();
let team: Awaited<ReturnType<typeof seedProject>>;

async function duplicateOf(p: Promise<unknown>): Promise<DuplicateRequest> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(DuplicateRequest);
  return e as DuplicateRequest;
}

describe('idempotent key creation', () => {
  it('the same requestId twice in a row creates one key; the repeat carries the first keyId', async () => {
    team = await seedProject(w, 'idem');
    const input = { project: 'idem', name: 'Retry Me', requestId: 'slack:T1:trigger-1' };
    const first = await w.s.keys.create(team.dev, input);
    const again = await duplicateOf(w.s.keys.create(team.dev, input));
    expect(again.result).toEqual({ keyId: first.key.id });
    expect(await w.db.apiKey.count({ where: { name: 'Retry Me' } })).toBe(1);
    expect(await w.db.auditEvent.count({ where: { action: 'key.created', targetId: first.key.id } })).toBe(1);
  });

  it('a repeat with another name (edited modal, same trigger) still creates nothing', async () => {
    const again = await duplicateOf(w.s.keys.create(team.dev, { project: 'idem', name: 'Other', requestId: 'slack:T1:trigger-1' }));
    expect(again.result.keyId).toMatch(/^key_/);
    expect(await w.db.apiKey.count({ where: { name: 'Other' } })).toBe(0);
  });

  it('concurrent deliveries (Promise.all) create one key; the others get DuplicateRequest with its id', async () => {
    const input = { project: 'idem', name: 'Double Click', requestId: 'slack:T1:trigger-2' };
    const results = await Promise.allSettled([1, 2, 3].map(() => w.s.keys.create(team.dev, input)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    const keyId = (ok[0] as PromiseFulfilledResult<{ key: { id: string } }>).value.key.id;
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(DuplicateRequest);
        expect((r.reason as DuplicateRequest).result).toEqual({ keyId });
      }
    }
    expect(await w.db.apiKey.count({ where: { name: 'Double Click' } })).toBe(1);
    expect(await w.db.auditEvent.count({ where: { action: 'key.created', targetId: keyId } })).toBe(1);
  });

  it('different requestIds act independently; no requestId means no guard', async () => {
    const a = await w.s.keys.create(team.dev, { project: 'idem', name: 'A', requestId: 'r-a' });
    const b = await w.s.keys.create(team.dev, { project: 'idem', name: 'B', requestId: 'r-b' });
    expect(a.key.id).not.toBe(b.key.id);
  });

  it('a refused request does not burn its requestId', async () => {
    await expect(w.s.keys.create(team.viewer, { project: 'idem', name: 'V', requestId: 'r-v' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(w.s.keys.create(team.dev, { project: 'idem', name: 'B', requestId: 'r-dupname' })).rejects.toMatchObject({ code: 'conflict' });
    const ok = await w.s.keys.create(team.dev, { project: 'idem', name: 'B2', requestId: 'r-dupname' });
    expect(ok.key.name).toBe('B2');
  });
});

describe('idempotent revoke and rotate', () => {
  it('a repeated revoke is recognised as the same request', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'idem', name: 'Rev' });
    await w.s.keys.revoke(team.dev, k.key.id, 'r', 'view:rev-1');
    const again = await duplicateOf(w.s.keys.revoke(team.dev, k.key.id, 'r', 'view:rev-1'));
    expect(again.result).toEqual({ keyId: k.key.id });
    expect(await w.db.auditEvent.count({ where: { action: 'key.revoked', targetId: k.key.id } })).toBe(1);
  });

  it('a repeated rotation rotates once', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'idem', name: 'Rot' });
    const r = await w.s.keys.rotate(team.dev, k.key.id, undefined, 'cmd:rot-1');
    const again = await duplicateOf(w.s.keys.rotate(team.dev, k.key.id, undefined, 'cmd:rot-1'));
    expect(again.result).toEqual({ keyId: k.key.id });
    const stored = await w.db.apiKey.findUniqueOrThrow({ where: { id: k.key.id } });
    expect(stored.hint).toBe(r.key.hint);
    expect(await w.db.auditEvent.count({ where: { action: 'key.rotated', targetId: k.key.id } })).toBe(1);
  });

  it('concurrent repeated rotations rotate once', async () => {
    const k = await w.s.keys.create(team.dev, { project: 'idem', name: 'Rot2' });
    const rs = await Promise.allSettled([1, 2].map(() => w.s.keys.rotate(team.dev, k.key.id, undefined, 'cmd:rot-2')));
    expect(rs.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = rs.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(DuplicateRequest);
    expect(await w.db.auditEvent.count({ where: { action: 'key.rotated', targetId: k.key.id } })).toBe(1);
  });
});
