/** TotpService on the database (SQLite, and PostgreSQL with TEST_DATABASE_URL): growing lockouts, their report, QR files. */
import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { openSecret, LOCKOUT_MS, type TotpRecord } from '../../src/domain/totp.js';
import type { Actor } from '../../src/services/context.js';
import { QR_FILE_TTL_MS, type RepeatedLockout } from '../../src/services/totp.js';
import { rejects, serviceWorld } from './setup.js';

const w = serviceWorld();

async function codeOf(who: Actor, stepsAhead = 0) {
  const row = (await w.db.totpEnrollment.findFirstOrThrow({ where: { orgId: who.orgId, userId: who.userId! } })) as TotpRecord;
  return generate({ secret: openSecret(w.s.deps.secret, row), epoch: Math.floor(w.clock.getTime() / 1000) + stepsAhead * 30 });
}
const wrongOf = (c: string) => String((Number(c) + 1) % 1_000_000).padStart(6, '0');

describe('lockouts on the database', () => {
  it('each lockout in a row doubles; the second and later ones are reported once each; a good code resets', async () => {
    const alice = w.user('UALICE');
    const reported: RepeatedLockout[] = [];
    w.s.totp.onRepeatedLockout(async (e) => void reported.push(e));
    await w.s.totp.enroll(alice);
    await w.s.totp.verify(alice, await codeOf(alice));
    const lockOnce = async () => {
      w.advance(30_000);
      const wrong = wrongOf(await codeOf(alice));
      for (let i = 0; i < 4; i++) await rejects(w.s.totp.stepUp(alice, wrong, 'key.revoke'), 'forbidden');
      await rejects(w.s.totp.stepUp(alice, wrong, 'key.revoke'), 'limit');
      const until = (await w.s.totp.status(alice)).lockedUntil!;
      const ms = until.getTime() - w.clock.getTime();
      w.clock = until;
      return ms;
    };
    expect(await lockOnce()).toBe(LOCKOUT_MS);
    expect(reported).toEqual([]);
    expect(await lockOnce()).toBe(2 * LOCKOUT_MS);
    expect(reported).toEqual([{ orgId: w.orgId, userId: 'UALICE', lockouts: 2, until: w.clock }]);
    expect(await lockOnce()).toBe(4 * LOCKOUT_MS);
    expect(reported.map((r) => r.lockouts)).toEqual([2, 3]);
    expect((await w.db.totpEnrollment.findFirstOrThrow({ where: { userId: 'UALICE' } })).lockouts).toBe(3);
    const audit = await w.db.auditEvent.findMany({ where: { action: 'totp.locked' } });
    expect(audit).toHaveLength(3);
    w.advance(30_000);
    expect(await w.s.totp.stepUp(alice, await codeOf(alice), 'key.revoke')).toBe('verified');
    expect((await w.db.totpEnrollment.findFirstOrThrow({ where: { userId: 'UALICE' } })).lockouts).toBe(0);
    expect(await lockOnce()).toBe(LOCKOUT_MS);
    expect(reported).toHaveLength(2);
  });
});

describe('enrollment QR files', () => {
  it('a QR file id is handed out once; abandoned ones are collected after the TTL', async () => {
    const bob = w.user('UBOB');
    const carol = w.user('UCAROL');
    await w.s.totp.enroll(bob);
    await w.s.totp.attachQrFile(bob, 'FBOB');
    expect(await w.s.totp.takeQrFile(w.orgId, 'UBOB')).toBe('FBOB');
    expect(await w.s.totp.takeQrFile(w.orgId, 'UBOB')).toBeNull();
    await w.s.totp.attachQrFile(bob, 'FBOB2');
    w.advance(5 * 60_000);
    await w.s.totp.enroll(carol);
    await w.s.totp.attachQrFile(carol, 'FCAROL');
    w.advance(QR_FILE_TTL_MS - 4 * 60_000);
    expect(await w.s.totp.takeAbandonedQrFiles()).toEqual([{ orgId: w.orgId, userId: 'UBOB', fileId: 'FBOB2' }]);
    expect(await w.s.totp.takeAbandonedQrFiles()).toEqual([]);
    w.advance(5 * 60_000);
    expect(await w.s.totp.takeAbandonedQrFiles()).toEqual([{ orgId: w.orgId, userId: 'UCAROL', fileId: 'FCAROL' }]);
  });
});
