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

/** Echoes user input inside a message, shortened so hostile input (5,000 characters) cannot flood it. */
export function echo(raw: string, max = 40): string {
  const text = raw.trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
