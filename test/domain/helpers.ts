import { expect } from 'vitest';
import { DomainError, type ErrorCode } from '../../src/domain/errors.js';

/** Runs `fn`, expects a DomainError with `code`, and returns it for message checks. */
export function refusal(fn: () => unknown, code: ErrorCode = 'invalid'): DomainError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe(code);
    return e as DomainError;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

/** Hostile inputs every parser must refuse (or bound) with a short, specific message. */
export const LONG = 'x'.repeat(5000);
export const label = (s: string) => (s.length > 30 ? `${s.slice(0, 12)}…(${s.length} chars)` : JSON.stringify(s));
