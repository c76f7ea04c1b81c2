import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import {
  checkCode, groupSecret, lockedUntil, openSecret, parseCode, sealSecret, startEnrollment, stepUpRequirement,
  lockoutMs, reportLockout, LOCKOUT_MS, MAX_FAILURES, MAX_LOCKOUT_MS, type TotpRecord,
} from '../../src/domain/totp.js';
import { refusal } from './helpers.js';

const SERVER = 'test-server-secret-0123456789abcdef';
const T0 = new Date('2026-03-02T10:00:10Z'); // 10 s into a 30 s step
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const codeAt = (secret: string, when: Date) => generate({ secret, epoch: Math.floor(when.getTime() / 1000) });
/** A code valid in none of the steps around `when` (a fixed "000000" could, rarely, be right). */
async function wrongAt(secret: string, when: Date): Promise<string> {
  const near = await Promise.all([-30, 0, 30].map((s) => codeAt(secret, new Date(when.getTime() + s * 1000))));
  let n = 0;
  while (near.includes(String(n).padStart(6, '0'))) n++;
  return String(n).padStart(6, '0');
}

function enrolled() {
  const e = startEnrollment(SERVER, { orgId: 'org_1', userId: 'U1', account: 'U1 (Acme)' }, null, T0);
  return { ...e, record: e.record };
}

async function activated() {
  const { record, secret } = enrolled();
  const r = await checkCode(SERVER, record, await codeAt(secret, T0), T0);
  if (!r.ok) throw new Error(r.message);
  return { record: r.record, secret };
}

describe('enrollment', () => {
  it('starts pending with a sealed secret and an otpauth URI for issuer keyward', () => {
    const { record, secret, uri } = enrolled();
    expect(record.status).toBe('pending');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(record.sealedSecret).not.toContain(secret);
    expect(openSecret(SERVER, record)).toBe(secret);
    expect(uri).toMatch(/^otpauth:\/\/totp\/keyward:U1%20\(Acme\)\?/);
    expect(uri).toContain(`secret=${secret}`);
    expect(uri).toContain('issuer=keyward');
  });
  it('the sealed secret only opens for its own org and user and under the right server secret', () => {
    const { record } = enrolled();
    expect(() => openSecret(SERVER, { ...record, userId: 'U2' })).toThrow();
    expect(() => openSecret(SERVER, { ...record, orgId: 'org_2' })).toThrow();
    expect(() => openSecret('another-secret-0123456789abcdef0123', record)).toThrow();
    expect(openSecret(SERVER, { ...record, sealedSecret: sealSecret(SERVER, 'org_1', 'U1', 'ABC') })).toBe('ABC');
  });
  it('the first good code activates the enrollment', async () => {
    const { record } = await activated();
    expect(record).toMatchObject({ status: 'active', activatedAt: T0, failedAttempts: 0 });
    expect(record.lastTimeStep).toBe(Math.floor(T0.getTime() / 30_000));
  });
  it('restarting keeps the lockout (re-enrolling cannot reset a lock) and bumps the version', () => {
    const { record } = enrolled();
    const locked: TotpRecord = { ...record, failedAttempts: 3, lockedUntil: at(600) };
    const again = startEnrollment(SERVER, { orgId: 'org_1', userId: 'U1', account: 'U1' }, locked, at(10));
    expect(again.record).toMatchObject({ failedAttempts: 3, lockedUntil: at(600), version: record.version + 1 });
    expect(openSecret(SERVER, again.record)).toBe(again.secret);
    expect(again.secret).not.toBe(openSecret(SERVER, record));
  });
});

describe('window', () => {
  it('accepts the previous, current and next step; refuses two steps away', async () => {
    for (const offset of [-30, 0, 30]) {
      const { record, secret } = enrolled();
      const r = await checkCode(SERVER, record, await codeAt(secret, at(offset)), T0);
      expect(r.ok, `offset ${offset}`).toBe(true);
    }
    for (const offset of [-60, 60]) {
      const { record, secret } = enrolled();
      const r = await checkCode(SERVER, record, await codeAt(secret, at(offset)), T0);
      expect(r).toMatchObject({ ok: false, reason: 'wrong' });
    }
  });
  it('ignores spaces and dashes; a malformed code does not count as a failure', async () => {
    const { record, secret } = enrolled();
    const code = await codeAt(secret, T0);
    expect((await checkCode(SERVER, record, `${code.slice(0, 3)} ${code.slice(3)}`, T0)).ok).toBe(true);
    const bad = await checkCode(SERVER, record, '12345', T0);
    expect(bad).toMatchObject({ ok: false, reason: 'malformed' });
    expect(bad.record.failedAttempts).toBe(0);
  });
  it('parseCode explains what it wants', () => {
    expect(parseCode(' 123-456 ')).toBe('123456');
    expect(refusal(() => parseCode('abcdef')).message).toContain('6-digit');
    refusal(() => parseCode(undefined));
  });
});

describe('replay', () => {
  it('a code is accepted at most once, even within its window', async () => {
    const { record, secret } = await activated();
    const again = await checkCode(SERVER, record, await codeAt(secret, T0), at(5));
    expect(again).toMatchObject({ ok: false, reason: 'replayed' });
    expect(!again.ok && again.message).toContain('already used');
    expect(again.record.failedAttempts).toBe(1);
  });
  it('an older code still inside the window is refused after a newer one was used', async () => {
    const { record, secret } = await activated();
    const next = await checkCode(SERVER, record, await codeAt(secret, at(30)), at(30));
    expect(next.ok).toBe(true);
    const older = await checkCode(SERVER, next.record, await codeAt(secret, T0), at(30));
    expect(older).toMatchObject({ ok: false, reason: 'replayed' });
  });
  it('the next step’s code is accepted after the current one', async () => {
    const { record, secret } = await activated();
    const r = await checkCode(SERVER, record, await codeAt(secret, at(30)), at(31));
    expect(r.ok).toBe(true);
    expect(r.ok && r.timeStep).toBe(record.lastTimeStep! + 1);
  });
});

describe('lockout', () => {
  it('5 wrong codes lock for 15 minutes; during the lock even the right code is refused', async () => {
    const { record: start, secret } = await activated();
    let record = start;
    for (let i = 1; i < MAX_FAILURES; i++) {
      const r = await checkCode(SERVER, record, await wrongAt(secret, at(i)), at(i));
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toContain(`${MAX_FAILURES - i} attempt`);
      record = r.record;
    }
    const fifth = await checkCode(SERVER, record, await wrongAt(secret, at(5)), at(5));
    expect(fifth).toMatchObject({ ok: false, lockedNow: true });
    expect(fifth.record.lockedUntil).toEqual(new Date(at(5).getTime() + LOCKOUT_MS));
    record = fifth.record;
    const during = await checkCode(SERVER, record, await codeAt(secret, at(60)), at(60));
    expect(during).toMatchObject({ ok: false, reason: 'locked' });
    expect(!during.ok && during.message).toContain('15 more minutes');
    expect(lockedUntil(record, at(60))).toEqual(record.lockedUntil);
    const after = new Date(record.lockedUntil!.getTime());
    expect(lockedUntil(record, after)).toBeNull();
    const ok = await checkCode(SERVER, record, await codeAt(secret, after), after);
    expect(ok.ok).toBe(true);
    expect(ok.record).toMatchObject({ failedAttempts: 0, lockedUntil: null });
  });
  it('lockouts in a row double (15 min, 30, 60 …) up to 24 h; a good code starts over at 15 min', async () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(lockoutMs)).toEqual([15, 30, 60, 120, 240, 480, 960, 1440].map((m) => m * 60_000));
    expect(lockoutMs(50)).toBe(MAX_LOCKOUT_MS);
    const { record: start, secret } = await activated();
    let record = start;
    let t = 0;
    /** Five wrong codes right after the current lock ends; returns the lock's length. */
    const lockOnce = async () => {
      t = Math.max(t, record.lockedUntil ? (record.lockedUntil.getTime() - T0.getTime()) / 1000 : 0);
      let last;
      for (let i = 0; i < MAX_FAILURES; i++) {
        t += 1;
        last = await checkCode(SERVER, record, await wrongAt(secret, at(t)), at(t));
        record = last.record;
      }
      expect(last).toMatchObject({ ok: false, lockedNow: true });
      return record.lockedUntil!.getTime() - at(t).getTime();
    };
    expect(await lockOnce()).toBe(15 * 60_000);
    expect(record.lockouts).toBe(1);
    expect(await lockOnce()).toBe(30 * 60_000);
    expect(await lockOnce()).toBe(60 * 60_000);
    expect(record.lockouts).toBe(3);
    // The warning before the next lock names its real length.
    t = (record.lockedUntil!.getTime() - T0.getTime()) / 1000 + 1;
    const warned = await checkCode(SERVER, record, await wrongAt(secret, at(t)), at(t));
    expect(!warned.ok && warned.message).toContain('lock for 2 hours');
    t += 60;
    const ok = await checkCode(SERVER, warned.record, await codeAt(secret, at(t)), at(t));
    expect(ok.ok).toBe(true);
    record = ok.record;
    expect(record.lockouts).toBe(0);
    expect(await lockOnce()).toBe(15 * 60_000);
  });
  it('re-enrolling keeps the lockout count, so it cannot shorten the next lock', () => {
    const { record } = enrolled();
    const again = startEnrollment(SERVER, { orgId: 'org_1', userId: 'U1', account: 'U1' }, { ...record, lockouts: 3 }, at(10));
    expect(again.record.lockouts).toBe(3);
  });
  it('org admins hear of the second lockout in a row and every later one, not of a single slip', () => {
    expect([1, 2, 3, 9].map(reportLockout)).toEqual([false, true, true, true]);
  });
  it('a success resets the failure count', async () => {
    const { record, secret } = await activated();
    const wrong = await checkCode(SERVER, record, await wrongAt(secret, at(30)), at(30));
    const right = await checkCode(SERVER, wrong.record, await codeAt(secret, at(31)), at(31));
    expect(wrong.record.failedAttempts).toBe(1);
    expect(right.record.failedAttempts).toBe(0);
  });
  it('every check bumps the version so concurrent writers collide', async () => {
    const { record, secret } = await activated();
    const r = await checkCode(SERVER, record, await wrongAt(secret, at(30)), at(30));
    expect(r.record.version).toBe(record.version + 1);
  });
});

describe('step-up requirement', () => {
  it('enrolled users give a code; others enroll first only when the org requires 2FA', async () => {
    const { record } = await activated();
    expect(stepUpRequirement(record, false)).toBe('code');
    expect(stepUpRequirement(record, true)).toBe('code');
    expect(stepUpRequirement(null, false)).toBe('none');
    expect(stepUpRequirement(null, true)).toBe('enroll');
    expect(stepUpRequirement(enrolled().record, true)).toBe('enroll'); // pending is not enrolled
  });
  it('groups the secret for manual entry', () => {
    expect(groupSecret('ABCDEFGHIJ')).toBe('ABCD EFGH IJ');
  });
});
