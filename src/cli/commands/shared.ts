import { isDomainError } from '../../domain/errors.js';
import { UsageError, type Tokens } from '../args.js';

/**
 * The positionals after the verb, at least `min` of them (and at most `max`, if given).
 * `what` names what is missing, for the message.
 */
export function need(t: Tokens, min: number, verb: string, what: string, max?: number): string[] {
  const args = t.positionals;
  if (args.length < min) throw new UsageError(`${verb} needs ${what}`, verb);
  if (max !== undefined && args.length > max) {
    throw new UsageError(`${verb} got an unexpected argument "${args[max]!.slice(0, 40)}"`, verb);
  }
  return args;
}

/** Runs a domain parser; its "invalid" answer is a usage error here (checked before anything opens). */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (isDomainError(error) && error.code === 'invalid') throw new UsageError(error.message);
    throw error;
  }
}

/** A whole number within bounds, for flags like --rpm and --limit. */
export function wholeNumber(raw: string | true | undefined, flag: string, min: number, max: number): number | undefined {
  if (raw === undefined || raw === true) return undefined;
  const n = /^\d{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} takes a whole number from ${min} to ${max} (got "${raw.slice(0, 40)}")`);
  }
  return n;
}

export const str = (v: string | true | undefined) => (typeof v === 'string' ? v : undefined);
