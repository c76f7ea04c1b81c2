import { describe, expect, it } from 'vitest';
import { noRefusals } from '../../src/domain/key-check.js';
import type { KeyCheckReport } from '../../src/services/key-check.js';
import { keyCheckChoices, keyCheckMessage } from '../../src/slack/views/key-check.js';
import { allText, expectWithinLimits } from './limits.js';

const T0 = new Date('2026-11-26T10:00:00Z');

function report(over: Partial<KeyCheckReport> = {}): KeyCheckReport {
  return {
    key: {
      id: 'key_4fT9aB2cD3eF4gH5', name: 'N'.repeat(64), projectId: 'prj_1', projectName: 'support-bot', scope: 'full', environment: 'prod',
      ownerId: 'UDEV', status: 'revoked', hint: 'sk-kw-…wxyz', createdAt: T0, expiresAt: null, lastUsedAt: null, revokedAt: T0,
      revokedBy: 'cli:ops', revokeReason: `<!channel> ${'r'.repeat(500)}\n*Environment:* dev`, rotatedAt: null, graceEndsAt: null,
      prevHint: null, rpm: null,
    },
    status: 'revoked', graceUntil: null, matchedPrevious: false,
    endpoints: ['POST /v1/messages', 'GET /v1/usage'],
    period: { key: '2026-11', resetsAt: new Date('2026-12-01T00:00:00Z'), resetsAtText: '2026-12-01T00:00:00+00:00' },
    limits: {
      project: { hardMicros: null, softMicros: null, rpm: null, itpm: null, otpm: null, spentMicros: 0n, usedFraction: null },
      org: null,
    },
    refusals: { lastHour: noRefusals(), lastDay: { ...noRefusals(), unauthorized: 3 }, last: { at: T0, status: 401, errorClass: 'key_inactive', reason: 'key revoked' } },
    advice: 'Revoked keys cannot be restored.', checkedAt: T0, ...over,
  };
}

describe('/keys check views', () => {
  it('a report stays within Block Kit limits and keeps user text on one escaped line', () => {
    const m = keyCheckMessage(report());
    expectWithinLimits(m);
    const text = allText(m);
    expect(text).toContain('by `cli:ops`');
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toMatch(/\n\*Environment:\* dev/);
    expect(text).toContain('last <!date^');
  });

  it('an active key in its rotation grace says until when the previous secret works, and org figures only when given', () => {
    const grace = new Date('2026-11-26T12:00:00Z');
    const base = report();
    const active = report({
      status: 'active', graceUntil: grace, key: { ...base.key, status: 'active', revokedAt: null, rotatedAt: T0, prevHint: 'sk-kw-…abcd', graceEndsAt: grace },
    });
    const text = allText(keyCheckMessage(active));
    expect(text).toContain(`*active*, rotated <!date^${T0.getTime() / 1000}^`);
    expect(text).toContain(`the previous secret sk-kw-…abcd works until <!date^${grace.getTime() / 1000}^`);
    expect(text).not.toContain('Organisation this month');
    const org = { ...base.limits.project, hardMicros: 5_000_000_000n, spentMicros: 1_000_000n };
    expect(allText(keyCheckMessage(report({ limits: { project: base.limits.project, org } })))).toContain('*Organisation this month:* $1.00 of $5,000.00');
  });

  it('many candidates stay within limits and each shows its id', () => {
    const candidates = Array.from({ length: 50 }, (_, i) => ({
      id: `key_${String(i).padStart(16, 'x')}`, name: 'N'.repeat(64), projectName: 'p', status: 'active' as const, hint: 'sk-kw-…abcd', matchedPrevious: i % 2 === 0,
    }));
    const m = keyCheckChoices('abcd', candidates);
    expectWithinLimits(m);
    expect(m.text).toContain('Pick one by id');
    const blocks = JSON.stringify(m.blocks);
    for (const c of candidates) expect(blocks).toContain(c.id);
  });
});
