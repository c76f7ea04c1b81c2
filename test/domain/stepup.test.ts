import { describe, expect, it } from 'vitest';
import { isStepUpAction, needsStepUp, stepUpSummary, STEP_UP_ACTIONS, StepUpRequired } from '../../src/domain/stepup.js';
import { DomainError } from '../../src/domain/errors.js';

describe('step-up actions', () => {
  it('grants of admin rights, removals, approval policy, prod keys and bulk revocation all ask', () => {
    expect(needsStepUp('member.add', { role: 'admin' })).toBe(true);
    expect(needsStepUp('member.add', { role: 'developer' })).toBe(false);
    expect(needsStepUp('member.add', { role: 'viewer' })).toBe(false);
    expect(needsStepUp('member.remove')).toBe(true);
    expect(needsStepUp('member.role')).toBe(true);
    expect(needsStepUp('project.policy')).toBe(true);
    expect(needsStepUp('project.archive')).toBe(true);
    for (const a of ['key.create', 'key.revoke', 'key.rotate'] as const) {
      expect(needsStepUp(a, { environment: 'prod' })).toBe(true);
      expect(needsStepUp(a, { environment: 'staging' })).toBe(false);
      expect(needsStepUp(a, { environment: 'dev' })).toBe(false);
    }
    expect(needsStepUp('review.close', { unreviewed: 'revoke' })).toBe(true);
    expect(needsStepUp('review.close', { unreviewed: 'keep' })).toBe(false);
    expect(needsStepUp('review.revoke')).toBe(true);
    expect(needsStepUp('approval.approve')).toBe(true);
    expect(needsStepUp('limits.set')).toBe(true);
    expect(needsStepUp('totp.reset')).toBe(true);
  });
  it('one label per action, readable in one line', () => {
    expect(STEP_UP_ACTIONS).toHaveLength(13);
    expect(stepUpSummary().split(', ')).toHaveLength(STEP_UP_ACTIONS.length);
    expect(stepUpSummary()).toContain('adding a project Admin');
    expect(isStepUpAction('member.remove')).toBe(true);
    expect(isStepUpAction('toString')).toBe(false);
  });
  it('StepUpRequired is a forbidden DomainError naming its action', () => {
    const e = new StepUpRequired('member.remove');
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({ code: 'forbidden', action: 'member.remove' });
  });
});
