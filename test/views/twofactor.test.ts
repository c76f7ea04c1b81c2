import { describe, expect, it } from 'vitest';
import {
  disabledMessage, enrolledMessage, enrollModal, lockoutNotice, resetNotice, statusMessage, totpFromState, totpInput, TOTP_ACTION, TOTP_BLOCK,
} from '../../src/slack/views/twofactor.js';
import { allText, expectWithinLimits } from './limits.js';

const NOW = new Date('2026-03-02T10:00:00Z');

describe('2FA views', () => {
  it('the enroll modal shows the secret, the QR image once uploaded, and takes the first code; it reports its closing', () => {
    const text = enrollModal('ABCD EFGH IJKL MNOP', 'otpauth://totp/keyward:x?secret=ABCDEFGHIJKLMNOP&issuer=keyward', null);
    expect(JSON.stringify(text.blocks)).toContain('`ABCD EFGH IJKL MNOP`');
    expect(text.blocks.some((b) => b.type === 'image')).toBe(false);
    expect(text.blocks.some((b) => b.block_id === TOTP_BLOCK)).toBe(true);
    expect(text).toMatchObject({ type: 'modal', notify_on_close: true });
    const withQr = enrollModal('ABCD EFGH IJKL MNOP', 'otpauth://totp/keyward:x?secret=ABCDEFGHIJKLMNOP&issuer=keyward', 'F123');
    expect(withQr.blocks.find((b) => b.type === 'image')).toMatchObject({ slack_file: { id: 'F123' } });
    expect(withQr.blocks.length).toBeLessThanOrEqual(100);
  });
  it('the lockout notice names the user, the count and the end of the lock', () => {
    const m = lockoutNotice({ userId: 'UALICE', lockouts: 2, until: NOW });
    expectWithinLimits(m);
    expect(m.text).toContain('<@UALICE>');
    expect(m.text).toContain('2nd time in a row');
    expect(lockoutNotice({ userId: 'U', lockouts: 3, until: NOW }).text).toContain('3rd');
    expect(lockoutNotice({ userId: 'U', lockouts: 11, until: NOW }).text).toContain('11th');
  });
  it('the step-up field is required, 6–7 characters, and read back from the view state', () => {
    const block = totpInput() as Record<string, any>;
    expect(block).toMatchObject({ type: 'input', block_id: TOTP_BLOCK, element: { action_id: TOTP_ACTION, min_length: 6, max_length: 7 } });
    expect(block.optional).toBeUndefined();
    expect(totpFromState({ [TOTP_BLOCK]: { [TOTP_ACTION]: { value: '123 456' } } })).toBe('123 456');
    expect(totpFromState({ note: { value: { value: 'x' } } })).toBeUndefined();
    expect(totpFromState(undefined)).toBeUndefined();
  });
  it('status shows state, lockout and the org requirement', () => {
    const locked = statusMessage({ status: 'active', lockedUntil: new Date(NOW.getTime() + 60_000), stepUp: 'code' }, NOW);
    expect(allText(locked)).toContain('*on*');
    expect(allText(locked)).toContain('Locked');
    const required = statusMessage({ status: 'none', lockedUntil: null, stepUp: 'enroll' }, NOW);
    expect(allText(required)).toContain('required in this workspace');
    expect(allText(statusMessage({ status: 'pending', lockedUntil: null, stepUp: 'none' }, NOW))).toContain('2fa verify');
  });
  it('reset notice names the admin and what to do next', () => {
    expect(resetNotice('UADMIN', true).text).toContain('<@UADMIN> reset your keyward two-factor');
    expect(resetNotice('UADMIN', true).text).toContain('required');
    expect(resetNotice('UADMIN', false).text).not.toContain('required');
    for (const m of [enrolledMessage(), disabledMessage(), resetNotice('UADMIN', false)]) expectWithinLimits(m);
  });
});
