import { describe, expect, it } from 'vitest';
import {
  disabledMessage, enrolledMessage, enrollMessage, resetNotice, statusMessage, totpFromState, totpInput, TOTP_ACTION, TOTP_BLOCK,
} from '../../src/slack/views/twofactor.js';
import { allText, expectWithinLimits } from './limits.js';

const NOW = new Date('2026-03-02T10:00:00Z');

describe('2FA views', () => {
  it('the enroll DM gives the manual secret and the verify command, with a text fallback', () => {
    const m = enrollMessage('ABCD EFGH IJKL MNOP');
    expectWithinLimits(m);
    expect(allText(m)).toContain('`ABCD EFGH IJKL MNOP`');
    expect(allText(m)).toContain('/keyward 2fa verify <code>');
    expect(m.text).not.toContain('ABCD'); // the notification preview never shows the secret
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
