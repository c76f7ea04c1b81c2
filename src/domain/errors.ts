/** A refusal the user can act on. `message` is shown as is (Slack, CLI, gateway). */
export type ErrorCode = 'invalid' | 'not_found' | 'forbidden' | 'conflict' | 'limit';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (message: string) => new DomainError('invalid', message);
export const notFound = (message: string) => new DomainError('not_found', message);
export const forbidden = (message: string) => new DomainError('forbidden', message);
export const conflict = (message: string) => new DomainError('conflict', message);

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
