import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveWebhookSecret, signWebhook, verifyWebhook } from '../../src/domain/webhooks.js';
import { usingPostgres } from '../helpers/db.js';
import { rejects, SERVER_SECRET, seedProject, serviceWorld } from './setup.js';

const w = serviceWorld();
const body = JSON.stringify({ type: 'limit.threshold', project: 'x' });
/** Does a receiver holding `secret` accept what keyward signs for this limit now? */
const verifies = async (limitId: string, secret: string) => {
  const now = new Date();
  return verifyWebhook({ secret, body, headers: signWebhook(await w.s.limits.signingSecrets(limitId), body, now), now }).ok;
};
const limitId = async (project: string) => `prj:${(await w.db.project.findFirstOrThrow({ where: { name: project } })).id}`;

describe(`webhook signing secrets (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  it('is shown to whoever manages the limit, and verifies what keyward signs; members without the right never see it', async () => {
    const team = await seedProject(w, 'hooked');
    const none = await w.s.limits.show(team.admin, 'hooked');
    expect(none.webhookSigningSecret).toBeNull(); // no webhook configured yet

    const set = await w.s.limits.set(team.admin, 'hooked', ['notify=channel,webhook', 'webhook=https://hooks.example.com/kw']);
    const secret = set.webhookSigningSecret!;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect((await w.s.limits.show(team.admin, 'hooked')).webhookSigningSecret).toBe(secret);
    expect((await w.s.limits.show(team.viewer, 'hooked')).webhookSigningSecret).toBeNull();
    expect((await w.s.limits.show(team.dev, 'hooked')).webhookSigningSecret).toBeNull();
    expect(await verifies(await limitId('hooked'), secret)).toBe(true);
    // Stored sealed, never in plain text.
    const row = await w.db.limit.findUniqueOrThrow({ where: { id: await limitId('hooked') } });
    expect(row.webhookSecret).toMatch(/^v1\./);
    expect(row.webhookSecret).not.toContain(secret.slice(6));
  });

  it("each webhook has its own secret: project A's Admin cannot sign alerts for B's or the org's receiver", async () => {
    const a = await seedProject(w, 'alpha', { admin: 'UA', dev: 'UAD', viewer: 'UAV' });
    const b = await seedProject(w, 'beta', { admin: 'UB', dev: 'UBD', viewer: 'UBV' });
    const aSecret = (await w.s.limits.set(a.admin, 'alpha', ['webhook=https://a.example.com/kw']))!.webhookSigningSecret!;
    const bSecret = (await w.s.limits.set(b.admin, 'beta', ['webhook=https://b.example.com/kw']))!.webhookSigningSecret!;
    const orgSecret = (await w.s.limits.set(a.boss, 'org', ['webhook=https://org.example.com/kw']))!.webhookSigningSecret!;
    expect(new Set([aSecret, bSecret, orgSecret]).size).toBe(3);
    expect(await verifies(await limitId('beta'), bSecret)).toBe(true);
    expect(await verifies(await limitId('beta'), aSecret)).toBe(false);
    expect(await verifies(`org:${w.orgId}`, aSecret)).toBe(false);
    expect(await verifies(`org:${w.orgId}`, orgSecret)).toBe(true);
    // The old org-wide derivation verifies nothing new.
    expect(await verifies(await limitId('alpha'), deriveWebhookSecret(SERVER_SECRET, w.orgId))).toBe(false);
    // A's Admin does not see B's limits at all.
    await rejects(w.s.limits.show(a.admin, 'beta'), 'not_found');
  });

  it('webhook-secret=rotate makes a new secret at once, audited without the secret; only with a webhook', async () => {
    const team = await seedProject(w, 'rotor', { admin: 'UR', dev: 'URD', viewer: 'URV' });
    const id = await limitId('rotor');
    await rejects(w.s.limits.set(team.admin, 'rotor', ['webhook-secret=rotate']), 'invalid');
    await rejects(w.s.limits.set(team.admin, 'rotor', ['webhook-secret=please']), 'invalid');
    const old = (await w.s.limits.set(team.admin, 'rotor', ['webhook=https://r.example.com/kw'])).webhookSigningSecret!;
    await rejects(w.s.limits.set(team.viewer, 'rotor', ['webhook-secret=rotate']), 'forbidden');
    const rotated = (await w.s.limits.set(team.admin, 'rotor', ['webhook-secret=rotate'])).webhookSigningSecret!;
    expect(rotated).not.toBe(old);
    expect(await verifies(id, rotated)).toBe(true);
    expect(await verifies(id, old)).toBe(false);
    const events = await w.db.auditEvent.findMany({ where: { projectId: id.slice(4) } });
    expect(events.filter((e) => e.action === 'limits.webhook_secret_rotated')).toHaveLength(1);
    expect(events.filter((e) => e.action === 'limits.set')).toHaveLength(1); // the webhook itself; the rotation alone is its own event
    const all = JSON.stringify(await w.db.auditEvent.findMany());
    for (const s of [old, rotated]) expect(all).not.toContain(s.slice(6));
    // A changed URL keeps the secret; removing the webhook drops it; a new webhook gets a new one.
    expect((await w.s.limits.set(team.admin, 'rotor', ['webhook=https://r2.example.com/kw'])).webhookSigningSecret).toBe(rotated);
    await w.s.limits.set(team.admin, 'rotor', ['webhook=none']);
    expect((await w.db.limit.findUniqueOrThrow({ where: { id } })).webhookSecret).toBeNull();
    expect(await w.s.limits.signingSecrets(id)).toEqual([]);
    const again = (await w.s.limits.set(team.admin, 'rotor', ['webhook=https://r.example.com/kw'])).webhookSigningSecret!;
    expect([old, rotated]).not.toContain(again);
  });

  it("the migration marks every existing webhook for the old org-wide signature, and nothing else", async () => {
    const team = await seedProject(w, 'premigration', { admin: 'UP', dev: 'UPD', viewer: 'UPV' });
    await w.s.limits.set(team.admin, 'premigration', ['webhook=https://pre.example.com/kw']);
    await w.s.limits.set(team.admin, 'premigration', ['hard=5']);
    const id = await limitId('premigration');
    await w.db.limit.update({ where: { id }, data: { webhookSecret: null, webhookLegacySigning: false } });
    const plain = await seedProject(w, 'nohook', { admin: 'UN', dev: 'UND', viewer: 'UNV' });
    await w.s.limits.set(plain.admin, 'nohook', ['hard=5']);
    const dir = `prisma/${usingPostgres() ? 'postgres' : 'sqlite'}/migrations`;
    const name = readdirSync(dir).find((d) => d.endsWith('_webhook_secret_per_limit'))!;
    const update = readFileSync(`${dir}/${name}/migration.sql`, 'utf8').split('\n').filter((l) => l.startsWith('UPDATE ')).join('\n');
    expect(update).toContain('"webhookLegacySigning"');
    await w.db.$executeRawUnsafe(update);
    expect((await w.db.limit.findUniqueOrThrow({ where: { id } })).webhookLegacySigning).toBe(true);
    expect((await w.db.limit.findUniqueOrThrow({ where: { id: await limitId('nohook') } })).webhookLegacySigning).toBe(false);
    expect(await verifies(id, deriveWebhookSecret(SERVER_SECRET, w.orgId))).toBe(true);
  });

  it('a webhook from before per-webhook secrets keeps its receiver working until rotated, then only its own secret signs', async () => {
    const team = await seedProject(w, 'legacy', { admin: 'UL', dev: 'ULD', viewer: 'ULV' });
    const id = await limitId('legacy');
    await w.s.limits.set(team.admin, 'legacy', ['hard=10']);
    // As the migration leaves an existing webhook: a URL, no secret of its own, legacy signing on.
    await w.db.limit.update({ where: { id }, data: { webhookUrl: 'https://old.example.com/kw', webhookSecret: null, webhookLegacySigning: true } });
    const orgWide = deriveWebhookSecret(SERVER_SECRET, w.orgId);
    expect(await verifies(id, orgWide)).toBe(true); // the receiver configured with the old secret
    const shown = await w.s.limits.show(team.admin, 'legacy');
    expect(shown.webhookLegacySigning).toBe(true);
    const own = shown.webhookSigningSecret!;
    expect(own).not.toBe(orgWide);
    expect(await verifies(id, own)).toBe(true);
    expect((await w.s.limits.show(team.admin, 'legacy')).webhookSigningSecret).toBe(own); // generated once
    // First rotation retires the org-wide signature and keeps the secret the receiver switched to.
    const after = await w.s.limits.set(team.admin, 'legacy', ['webhook-secret=rotate']);
    expect([after.webhookSigningSecret, after.webhookLegacySigning]).toEqual([own, false]);
    expect(await verifies(id, orgWide)).toBe(false);
    expect(await verifies(id, own)).toBe(true);
    const fresh = (await w.s.limits.set(team.admin, 'legacy', ['webhook-secret=rotate'])).webhookSigningSecret!;
    expect(fresh).not.toBe(own);
  });
});
