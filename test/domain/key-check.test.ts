import { describe, expect, it } from 'vitest';
import {
  endpointsFor, keyAdvice, keyCondition, parseKeyRef, refusalKind, refusalReason, spendLine, type AdviceInput,
} from '../../src/domain/key-check.js';
import { newSecret } from '../../src/domain/keys.js';

const NOW = new Date('2026-11-26T10:00:00Z');
const HOUR = 3_600_000;

describe('key references', () => {
  it('takes a key id or the last 4 characters of a secret in any of its printed forms', () => {
    expect(parseKeyRef(' key_4fT9aB2cD3eF4gH5 ')).toEqual({ kind: 'id', id: 'key_4fT9aB2cD3eF4gH5' });
    for (const ref of ['aB3d', '…aB3d', '...aB3d', 'sk-kw-…aB3d', 'sk-kw-...aB3d']) expect(parseKeyRef(ref)).toEqual({ kind: 'hint', last4: 'aB3d' });
  });

  it('refuses whole or partial secrets without echoing them, and anything else with what to give', () => {
    const secret = newSecret();
    for (const raw of [secret, secret.slice(0, 20)]) {
      expect(() => parseKeyRef(raw)).toThrow(/Do not paste secrets/);
      try {
        parseKeyRef(raw);
      } catch (e) {
        expect((e as Error).message).not.toContain(secret.slice(6, 16));
      }
    }
    for (const raw of ['abc', 'abcde', 'ab-d', '', 'key_']) expect(() => parseKeyRef(raw)).toThrow(/neither a key id/);
  });
});

describe('key condition', () => {
  const base = { status: 'active' as const, expiresAt: null, graceEndsAt: null, prevHint: null };
  it('is active, expired once past the expiry, and shows a live rotation grace only', () => {
    expect(keyCondition(base, NOW)).toEqual({ status: 'active', graceUntil: null });
    expect(keyCondition({ ...base, expiresAt: NOW }, NOW).status).toBe('expired');
    const grace = new Date(NOW.getTime() + HOUR);
    expect(keyCondition({ ...base, graceEndsAt: grace, prevHint: 'sk-kw-…abcd' }, NOW).graceUntil).toEqual(grace);
    expect(keyCondition({ ...base, graceEndsAt: new Date(NOW.getTime() - 1), prevHint: 'sk-kw-…abcd' }, NOW).graceUntil).toBeNull();
    expect(keyCondition({ ...base, status: 'revoked', graceEndsAt: grace, prevHint: 'sk-kw-…abcd' }, NOW)).toEqual({ status: 'revoked', graceUntil: null });
  });

  it('lists the endpoints each scope opens', () => {
    expect(endpointsFor('read-only')).toEqual(['GET /v1/models', 'GET /v1/models/{id}', 'GET /v1/usage']);
    expect(endpointsFor('full')).toHaveLength(5);
    expect(endpointsFor('inference')).not.toContain('GET /v1/usage');
  });
});

describe('refusals', () => {
  it('are 401, 403, 429 and spend-limit answers; other errors are not', () => {
    expect(refusalKind(401, 'key_inactive')).toBe('unauthorized');
    expect(refusalKind(403, 'permission')).toBe('forbidden');
    expect(refusalKind(429, 'rate_limit')).toBe('rateLimited');
    expect(refusalKind(400, 'spend_limit')).toBe('spendLimit');
    expect(refusalKind(400, 'invalid_request')).toBeNull();
    expect(refusalKind(500, 'upstream_5xx')).toBeNull();
  });

  it('read a gateway 401 against the key as it is now', () => {
    expect(refusalReason(401, 'key_inactive', 'revoked')).toBe('key revoked');
    expect(refusalReason(401, 'key_inactive', 'expired')).toBe('key expired');
    expect(refusalReason(401, 'key_expired', 'active')).toContain('rotation');
    expect(refusalReason(401, 'key_expired', 'expired')).toBe('key expired');
    expect(refusalReason(401, 'authentication', 'active')).toContain('upstream');
  });
});

describe('advice', () => {
  const input = (over: Partial<AdviceInput> = {}): AdviceInput => ({
    key: { status: 'active', scope: 'inference', hint: 'sk-kw-…wxyz', rotatedAt: null },
    graceUntil: null, matchedPrevious: false, lastRefusal: null, recentRefusals: 0, projectName: 'app',
    limits: { project: { hardMicros: null, spentMicros: 0n }, org: null }, resetsAt: '2026-12-01T00:00:00+00:00', ...over,
  });
  const refused = (status: number, errorClass: string) => input({ lastRefusal: { status, errorClass }, recentRefusals: 1 });

  it('names the one thing to do for each cause', () => {
    expect(keyAdvice(input({ key: { ...input().key, status: 'revoked' } }))).toContain('create a new key');
    expect(keyAdvice(input({ key: { ...input().key, status: 'expired' } }))).toContain('create a new key');
    expect(keyAdvice(input({ matchedPrevious: true }))).toContain('sk-kw-…wxyz');
    expect(keyAdvice(refused(429, 'rate_limit'))).toContain('/limits set app');
    expect(keyAdvice(refused(400, 'spend_limit'))).toContain('after 2026-12-01T00:00:00+00:00');
    expect(keyAdvice(refused(400, 'spend_limit'))).toContain('an Admin of app (`/limits set app hard=…`) or, for the organisation');
    expect(keyAdvice(refused(403, 'permission'))).toContain('Scope `inference`');
    expect(keyAdvice(refused(401, 'key_expired'))).toContain('rotation replaced');
    expect(keyAdvice(refused(401, 'authentication'))).toContain('ANTHROPIC_API_KEY');
    expect(keyAdvice(input())).toContain('No refusals recorded');
  });

  it('points at the org admins when only the org-wide hard limit is spent', () => {
    const org = input({ limits: { project: { hardMicros: 10n, spentMicros: 1n }, org: { hardMicros: 5n, spentMicros: 5n } } });
    expect(keyAdvice(org)).toContain('/limits set org');
    const project = input({ limits: { project: { hardMicros: 10n, spentMicros: 10n }, org: null } });
    expect(keyAdvice(project)).toContain('/limits set app hard=');
  });

  it('formats spend against the hard limit', () => {
    expect(spendLine({ hardMicros: 100_000_000n, spentMicros: 12_500_000n })).toBe('$12.50 of $100.00 (12 %)');
    expect(spendLine({ hardMicros: null, spentMicros: 0n })).toBe('$0.00 spent, no hard limit');
  });
});
