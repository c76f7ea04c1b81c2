import { describe, expect, it } from 'vitest';
import {
  approve, approverRecipients, attachKey, cancel, deny, expire, needsApproval, newRequest, orThrow, parsePolicy,
  requestTtl, settle, who, DEFAULT_REQUEST_TTL_MS, type ApprovalRequest, type Decider,
} from '../../src/domain/approvals.js';
import { HOUR } from '../../src/domain/durations.js';
import { DomainError } from '../../src/domain/errors.js';
import { LONG, refusal } from './helpers.js';

const T0 = new Date('2026-03-02T10:00:00Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const admin: Decider = { id: 'UADMIN1', orgAdmin: false, role: 'admin' };
const admin2: Decider = { id: 'UADMIN2', orgAdmin: false, role: 'admin' };
const orgAdmin: Decider = { id: 'UORG', orgAdmin: true, role: null };

function request(over: Partial<Parameters<typeof newRequest>[0]> = {}, ttl?: number): ApprovalRequest {
  return newRequest(
    { orgId: 'org_1', projectId: 'prj_1', projectName: 'support-bot', requesterId: 'UDEV', keyName: 'Prod App',
      scope: 'inference', environment: 'prod', reason: 'launch', ...over },
    T0,
    ttl,
  );
}

describe('needsApproval', () => {
  const dev = { orgAdmin: false, role: 'developer' as const };
  it.each([
    ['none', 'prod', false], ['none', 'dev', false],
    ['prod', 'prod', true], ['prod', 'staging', false], ['prod', 'dev', false],
    ['always', 'dev', true], ['always', 'staging', true], ['always', 'prod', true],
  ] as const)('policy %s, %s key for a Developer → %s', (policy, env, expected) => {
    expect(needsApproval(policy, { environment: env, scope: 'inference' }, dev)).toBe(expected);
  });
  it('the prod policy covers full-scope keys in any environment (a full key works everywhere)', () => {
    for (const environment of ['dev', 'staging', 'prod'] as const) {
      expect(needsApproval('prod', { environment, scope: 'full' }, dev)).toBe(true);
      expect(needsApproval('none', { environment, scope: 'full' }, dev)).toBe(false);
    }
    expect(needsApproval('prod', { environment: 'dev', scope: 'read-only' }, dev)).toBe(false);
  });
  it('project Admins and org admins never need approval (they are the approvers)', () => {
    expect(needsApproval('always', { environment: 'prod', scope: 'inference' }, { orgAdmin: false, role: 'admin' })).toBe(false);
    expect(needsApproval('always', { environment: 'prod', scope: 'inference' }, { orgAdmin: true, role: null })).toBe(false);
    expect(needsApproval('always', { environment: 'prod', scope: 'inference' }, { orgAdmin: true, role: 'developer' })).toBe(false);
  });
});

describe('parsePolicy / requestTtl', () => {
  it('accepts the three policies, with or without approval=', () => {
    expect(parsePolicy('approval=ALWAYS')).toBe('always');
    expect(parsePolicy(' none ')).toBe('none');
    expect(parsePolicy('prod')).toBe('prod');
  });
  it('refuses anything else with a short message', () => {
    const e = refusal(() => parsePolicy(LONG));
    expect(e.message).toContain('approval=none');
    expect(e.message.length).toBeLessThan(200);
  });
  it('bounds the request lifetime to 1 h … 7 d, default 24 h', () => {
    expect(requestTtl(undefined)).toBe(24 * HOUR);
    expect(requestTtl(2 * HOUR)).toBe(2 * HOUR);
    refusal(() => requestTtl(HOUR - 1));
    refusal(() => requestTtl(8 * 24 * HOUR));
    refusal(() => requestTtl(Number.NaN));
  });
});

describe('newRequest', () => {
  it('starts pending and expires 24 h later by default', () => {
    const r = request();
    expect(r.status).toBe('pending');
    expect(r.id).toMatch(/^req_[0-9A-Za-z]{16}$/);
    expect(r.expiresAt.getTime() - T0.getTime()).toBe(DEFAULT_REQUEST_TTL_MS);
    expect(request({}, 2 * HOUR).expiresAt).toEqual(later(2 * HOUR));
  });
  it('refuses an overlong reason', () => {
    refusal(() => request({ reason: LONG }));
  });
});

describe('approve', () => {
  it('moves pending → approved, recording who, when and the note', () => {
    const r = orThrow(approve(request(), admin, later(HOUR), '  ok for launch '));
    expect(r).toMatchObject({ status: 'approved', decidedBy: 'UADMIN1', decidedAt: later(HOUR), decisionNote: 'ok for launch' });
  });
  it('org admins may approve even when not project members', () => {
    expect(approve(request(), orgAdmin, later(1)).ok).toBe(true);
  });
  it('nobody approves their own request, not even an org admin', () => {
    const own = request({ requesterId: 'UORG' });
    const t = approve(own, orgAdmin, later(1));
    expect(t).toMatchObject({ ok: false, code: 'forbidden' });
    expect(!t.ok && t.message).toContain('your own request');
    expect(approve(own, { ...orgAdmin, id: 'slack:UORG' }, later(1)).ok).toBe(false);
  });
  it('Developers and non-members cannot decide', () => {
    for (const d of [{ id: 'UX', orgAdmin: false, role: 'developer' }, { id: 'UY', orgAdmin: false, role: null }] as Decider[]) {
      expect(approve(request(), d, later(1))).toMatchObject({ ok: false, code: 'forbidden' });
    }
  });
  it('first decision wins: a later approve or deny sees "already approved by <@x>"', () => {
    const approved = orThrow(approve(request(), admin, later(1)));
    for (const t of [approve(approved, admin2, later(2)), deny(approved, admin2, later(2), 'no'), approve(approved, admin, later(3))]) {
      expect(t).toMatchObject({ ok: false, code: 'conflict', message: 'This request was already approved by <@UADMIN1>.' });
    }
  });
  it('after a deny, an approve sees "already denied by <@x>"', () => {
    const denied = orThrow(deny(request(), admin2, later(1), 'use staging'));
    expect(approve(denied, admin, later(2))).toMatchObject({ ok: false, message: 'This request was already denied by <@UADMIN2>.' });
  });
  it('a request past its deadline cannot be approved; the refusal carries the expired state to persist', () => {
    const t = approve(request(), admin, later(DEFAULT_REQUEST_TTL_MS));
    expect(t.ok).toBe(false);
    if (t.ok) return;
    expect(t.message).toContain('expired');
    expect(t.request).toMatchObject({ status: 'expired', decidedBy: 'system' });
    expect(approve(request(), admin, later(DEFAULT_REQUEST_TTL_MS - 1)).ok).toBe(true);
  });
  it('refuses an overlong note', () => {
    refusal(() => approve(request(), admin, later(1), LONG));
  });
});

describe('deny', () => {
  it('needs a reason and records it', () => {
    expect(deny(request(), admin, later(1), '   ')).toMatchObject({ ok: false, code: 'invalid' });
    expect(orThrow(deny(request(), admin, later(1), 'use staging'))).toMatchObject({ status: 'denied', decisionNote: 'use staging' });
  });
  it('the requester cannot deny their own request either', () => {
    expect(deny(request({ requesterId: 'UADMIN1' }), admin, later(1), 'x')).toMatchObject({ ok: false, code: 'forbidden' });
  });
});

describe('cancel', () => {
  it('only the requester cancels a pending request', () => {
    expect(cancel(request(), 'UADMIN1', later(1))).toMatchObject({ ok: false, code: 'forbidden' });
    expect(orThrow(cancel(request(), 'UDEV', later(1)))).toMatchObject({ status: 'cancelled', decidedBy: 'UDEV' });
  });
  it('a decided or cancelled request cannot be cancelled; approvers then see who cancelled', () => {
    const approved = orThrow(approve(request(), admin, later(1)));
    expect(cancel(approved, 'UDEV', later(2))).toMatchObject({ ok: false, code: 'conflict' });
    const cancelled = orThrow(cancel(request(), 'UDEV', later(1)));
    expect(approve(cancelled, admin, later(2))).toMatchObject({ ok: false, message: 'This request was cancelled by <@UDEV>.' });
  });
});

describe('expiry', () => {
  it('settle is lazy and exact at the deadline', () => {
    const r = request();
    expect(settle(r, later(DEFAULT_REQUEST_TTL_MS - 1))).toBe(r);
    expect(settle(r, later(DEFAULT_REQUEST_TTL_MS))).toMatchObject({ status: 'expired', decidedAt: r.expiresAt });
  });
  it('the sweeper expires only lapsed pending requests', () => {
    expect(expire(request(), later(HOUR))).toMatchObject({ ok: false, message: 'This request has not expired yet.' });
    expect(orThrow(expire(request(), later(25 * HOUR))).status).toBe('expired');
    const approved = orThrow(approve(request(), admin, later(1)));
    expect(expire(approved, later(25 * HOUR)).ok).toBe(false);
  });
  it('an expired request cannot be cancelled or denied', () => {
    const expired = orThrow(expire(request(), later(25 * HOUR)));
    expect(cancel(expired, 'UDEV', later(26 * HOUR))).toMatchObject({ ok: false, code: 'conflict' });
    expect(deny(expired, admin, later(26 * HOUR), 'x')).toMatchObject({ ok: false, code: 'conflict' });
  });
});

describe('attachKey', () => {
  it('only approved requests get a key, once', () => {
    expect(attachKey(request(), 'key_1').ok).toBe(false);
    const approved = orThrow(approve(request(), admin, later(1)));
    const withKey = orThrow(attachKey(approved, 'key_1'));
    expect(withKey.keyId).toBe('key_1');
    expect(attachKey(withKey, 'key_1').ok).toBe(true); // retry is harmless
    expect(attachKey(withKey, 'key_2').ok).toBe(false);
  });
});

describe('approverRecipients', () => {
  const members = [
    { userId: 'UDEV', role: 'developer' as const },
    { userId: 'UA', role: 'admin' as const },
    { userId: 'UB', role: 'admin' as const },
  ];
  it('asks the project Admins except the requester', () => {
    expect(approverRecipients('UDEV', members, ['UORG'])).toEqual(['UA', 'UB']);
    expect(approverRecipients('UA', members, ['UORG'])).toEqual(['UB']);
  });
  it('falls back to org admins (not the requester) when the project has no other Admin', () => {
    expect(approverRecipients('UA', members.slice(0, 2), ['UORG', 'UA'])).toEqual(['UORG']);
    expect(approverRecipients('UORG', [], ['UORG'])).toEqual([]);
  });
});

describe('who', () => {
  it('mentions Slack users and leaves other actors readable', () => {
    expect(who('U123ABC')).toBe('<@U123ABC>');
    expect(who('slack:W0XYZ12')).toBe('<@W0XYZ12>');
    expect(who('cli:alice')).toBe('cli:alice');
    expect(who('cli:<!channel>')).toBe('cli:&lt;!channel&gt;');
  });
  it('orThrow raises a DomainError with the refusal code', () => {
    expect(() => orThrow(cancel(request(), 'UX', later(1)))).toThrow(DomainError);
  });
});
