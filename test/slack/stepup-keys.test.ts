// TOTP step-up on prod keys: an enrolled Admin must enter a fresh code to rotate or revoke them.
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecret, type TotpRecord } from '../../src/domain/totp.js';
import { cliActor } from '../../src/services/index.js';
import { createHarness, U, viewSubmission, type Harness } from './harness.js';

const code = async (h: Harness, user: string) => {
  const row = (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: user } })) as TotpRecord;
  return generate({ secret: openSecret(h.services.deps.secret, row), epoch: Math.floor(h.services.deps.now!().getTime() / 1000) });
};
const wrongOf = (c: string) => String((Number(c) + 1) % 1_000_000).padStart(6, '0');
const totp = (value: string) => ({ totp: { value: { type: 'plain_text_input', value } } });

describe('step-up for prod keys', () => {
  let h: Harness;
  let prodKey: string;
  let devKey: string;
  const key = (id: string) => h.t.db.apiKey.findUniqueOrThrow({ where: { id } });

  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create omega', U.org);
    await h.ask('/project', `add omega <@${U.admin}> admin`, U.org);
    const org = await h.t.db.org.findFirstOrThrow();
    const ops = cliActor(org.id, 'ops');
    prodKey = (await h.services.keys.create(ops, { project: 'omega', name: 'Prod App', environment: 'prod', ownerId: U.admin })).key.id;
    devKey = (await h.services.keys.create(ops, { project: 'omega', name: 'Dev App', environment: 'dev', ownerId: U.admin })).key.id;
    await h.ask('/keyward', '2fa enroll', U.admin);
    await h.ask('/keyward', `2fa verify ${await code(h, U.admin)}`, U.admin);
  });
  afterAll(async () => h?.close());

  it('rotating a prod key asks for a code: a wrong one changes nothing, a fresh one rotates', async () => {
    h.advance(31_000);
    const before = (await key(prodKey)).secretHash;
    const { triggerId } = await h.command('/keys', `rotate ${prodKey}`, U.admin);
    const view = (await h.waitForCall('views.open', 0, (c) => c.body.trigger_id === triggerId)).body.view as Record<string, unknown>;
    expect(JSON.stringify(view)).toContain('"totp"');
    const good = await code(h, U.admin);
    const bad = await h.interact(viewSubmission(U.admin, view, 'VROT1', totp(wrongOf(good))));
    expect(bad.text).toContain('errors');
    expect((await key(prodKey)).secretHash).toBe(before);
    await h.interact(viewSubmission(U.admin, view, 'VROT2', totp(good)));
    await expect.poll(async () => (await key(prodKey)).secretHash).not.toBe(before);
  });

  it('revoking a prod key puts the code field in the confirmation; a wrong code leaves it active', async () => {
    h.advance(31_000);
    const from = h.calls.length;
    await h.command('/keys', `revoke ${prodKey}`, U.admin);
    const view = (await h.waitForCall('views.open', from)).body.view as Record<string, unknown>;
    expect(JSON.stringify(view)).toContain('"totp"');
    const good = await code(h, U.admin);
    const reason = { reason: { value: { type: 'plain_text_input', value: 'rotating out' } } };
    const bad = await h.interact(viewSubmission(U.admin, view, 'VREV1', { ...reason, ...totp(wrongOf(good)) }));
    expect(bad.text).toContain('errors');
    expect((await key(prodKey)).status).toBe('active');
    await h.interact(viewSubmission(U.admin, view, 'VREV2', { ...reason, ...totp(good) }));
    await expect.poll(async () => (await key(prodKey)).status).toBe('revoked');
  });

  it('dev keys need no code', async () => {
    const from = h.calls.length;
    await h.command('/keys', `revoke ${devKey}`, U.admin);
    const view = (await h.waitForCall('views.open', from)).body.view as Record<string, unknown>;
    expect(JSON.stringify(view)).not.toContain('"totp"');
  });
});
