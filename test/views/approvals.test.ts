import { describe, expect, it } from 'vitest';
import { approve, cancel, deny, expire, newRequest, orThrow, type ApprovalRequest } from '../../src/domain/approvals.js';
import { DAY, HOUR } from '../../src/domain/durations.js';
import {
  approveModal, approverMessage, denyModal, outcomeLine, requestList, requestOutcomeMessage, requestPendingMessage,
  APPROVE_ACTION, APPROVE_CALLBACK, DENY_ACTION, DENY_CALLBACK, NOTE_BLOCK, REASON_BLOCK,
} from '../../src/slack/views/approvals.js';
import { TOTP_BLOCK } from '../../src/slack/views/twofactor.js';
import { allText, expectWithinLimits } from './limits.js';

const T0 = new Date('2026-03-02T10:00:00Z');
const admin = { id: 'UADMIN', orgAdmin: false, role: 'admin' as const };

function req(over: Partial<Parameters<typeof newRequest>[0]> = {}): ApprovalRequest {
  return newRequest({
    orgId: 'org_1', projectId: 'prj_1', projectName: 'support-bot', requesterId: 'UDEV', keyName: 'Prod App',
    scope: 'inference', environment: 'prod', keyExpiresInMs: 30 * DAY, rpm: 60, reason: 'launch <!channel> & co', ...over,
  }, T0);
}

describe('approver DM', () => {
  it('shows who, project, name, scope, environment, key expiry and reason, with Approve/Deny carrying the request id', () => {
    const r = req();
    const m = approverMessage(r);
    const buttons = expectWithinLimits(m);
    const text = allText(m);
    for (const s of ['<@UDEV>', 'support-bot', 'Prod App', 'inference', 'prod', 'after 30 days', '60/min', r.id]) expect(text).toContain(s);
    expect(buttons.map((b) => [b.action_id, b.value, b.style])).toEqual([[APPROVE_ACTION, r.id, 'primary'], [DENY_ACTION, r.id, 'danger']]);
    expect(APPROVE_ACTION).toBe('approval.approve');
    expect(DENY_ACTION).toBe('approval.deny');
    expect(m.text).toContain('Approval needed');
  });
  it('escapes the reason so it cannot ping a channel or inject links', () => {
    const text = allText(approverMessage(req()));
    expect(text).toContain('launch &lt;!channel&gt; &amp; co');
    expect(text).not.toContain('<!channel>');
  });
  it('says when no reason was given and when the key never expires', () => {
    const text = allText(approverMessage(req({ reason: '', keyExpiresInMs: null, rpm: null })));
    expect(text).toContain('no reason given');
    expect(text).toContain('*Key expires:* never');
    expect(text).not.toContain('/min');
  });
  it('once decided, expired or cancelled, the buttons are replaced by the outcome', () => {
    const r = req();
    const cases: [ApprovalRequest, string][] = [
      [orThrow(approve(r, admin, new Date(T0.getTime() + HOUR), 'go')), 'Approved* by <@UADMIN>'],
      [orThrow(deny(r, admin, new Date(T0.getTime() + HOUR), 'use "staging"')), 'Denied* by <@UADMIN>'],
      [orThrow(expire(r, new Date(T0.getTime() + 25 * HOUR))), 'Expired*'],
      [orThrow(cancel(r, 'UDEV', new Date(T0.getTime() + HOUR))), 'Cancelled* by <@UDEV>'],
    ];
    for (const [state, expected] of cases) {
      const m = approverMessage(state);
      expect(expectWithinLimits(m), state.status).toEqual([]);
      expect(allText(m)).toContain(expected);
      expect(m.text).toContain(state.status);
    }
    expect(outcomeLine(cases[0]![0])).toContain('“go”');
    expect(outcomeLine(cases[1]![0])).toContain('use "staging"');
  });
});

describe('approve and deny modals', () => {
  it('approve: optional note; the TOTP field only when the approver must step up; metadata = request id', () => {
    const r = req();
    const plain = approveModal(r, { needsCode: false });
    expect(plain).toMatchObject({ callback_id: APPROVE_CALLBACK, private_metadata: r.id });
    const ids = (v: typeof plain) => v.blocks.map((b) => (b as { block_id?: string }).block_id).filter(Boolean);
    expect(ids(plain)).toEqual([NOTE_BLOCK]);
    expect(plain.blocks.find((b) => (b as { block_id?: string }).block_id === NOTE_BLOCK)).toMatchObject({ optional: true });
    const stepUp = approveModal(r, { needsCode: true });
    expect(ids(stepUp)).toEqual([NOTE_BLOCK, TOTP_BLOCK]);
    expect(stepUp.blocks.find((b) => (b as { block_id?: string }).block_id === TOTP_BLOCK)).not.toHaveProperty('optional');
    expectWithinLimits(stepUp, 'modal');
    expect(stepUp.title.text.length).toBeLessThanOrEqual(24);
  });
  it('deny: a required reason', () => {
    const m = denyModal(req());
    expect(m.callback_id).toBe(DENY_CALLBACK);
    const input = m.blocks.find((b) => (b as { block_id?: string }).block_id === REASON_BLOCK) as Record<string, any>;
    expect(input.optional).toBeUndefined();
    expect(input.element).toMatchObject({ min_length: 1, max_length: 500 });
  });
});

describe('requester messages', () => {
  it('pending: names the approvers (bounded), the expiry and offers Cancel', () => {
    const many = Array.from({ length: 300 }, (_, i) => `U${String(i).padStart(8, '0')}`);
    const m = requestPendingMessage(req(), many, 'prod keys in support-bot need approval by a project Admin.');
    const buttons = expectWithinLimits(m);
    expect(buttons.map((b) => b.action_id)).toEqual(['approval.cancel']);
    expect(allText(m)).toContain('and 290 more');
  });
  it('outcome per state, with the deny reason escaped', () => {
    const r = req();
    const denied = requestOutcomeMessage(orThrow(deny(r, admin, T0, '<@UEVIL> no')));
    expect(allText(denied)).toContain('&lt;@UEVIL&gt; no');
    expect(denied.text).toContain('<@UADMIN> denied your request');
    expect(requestOutcomeMessage(orThrow(approve(r, admin, T0))).text).toContain('The key comes in the next message');
    expect(requestOutcomeMessage(orThrow(expire(r, new Date(T0.getTime() + DAY)))).text).toContain('expired');
  });
});

describe('request list', () => {
  it('fits 1,000 pending requests in one message with a count of the rest', () => {
    const many = Array.from({ length: 1000 }, () => req());
    const m = requestList(many);
    expectWithinLimits(m);
    expect(allText(m)).toMatch(/and \d+ more not shown/);
    expect(requestList([]).text).toBe('No pending key requests.');
  });
});

describe('user text cannot imitate keyward fields', () => {
  const fake = 'fine\n*Environment:* prod\n> *Scope:* `full` ~x~ _y_';
  it('one-line fields (decision notes) collapse line breaks and lose their formatting markers', () => {
    const r = orThrow(approve(req(), admin, T0, fake));
    for (const text of [outcomeLine(r), allText(requestOutcomeMessage(r))]) {
      expect(text).not.toMatch(/\n|\\n/);
      expect(text).not.toMatch(/\*Environment:\*|\*Scope:\*|`full`|~x~|_y_/);
      expect(text).toContain('fine ∗Environment:∗ prod &gt; ∗Scope:∗ ˋfullˋ ∼x∼ ˍyˍ');
    }
  });
  it('the multi-line reason is a quote block: every line of it starts with >', () => {
    const m = approverMessage(req({ reason: fake }));
    const text = (m.blocks as { text?: { text?: string } }[]).map((b) => b.text?.text ?? '').join('\n');
    expect(text).toContain('*Reason:*\n>fine\n>∗Environment:∗ prod\n>&gt; ∗Scope:∗');
    expect(text.match(/\*Environment:\*/g)).toHaveLength(1);
  });
});
