import type { Db, Tx } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';

/** Thrown inside a transaction when the same request was already handled; carries the first result. */
export class DuplicateRequest extends Error {
  constructor(readonly result: Record<string, unknown>) {
    super('duplicate request');
  }
}

/** Records `requestId` in the caller's transaction; a second delivery of the same request fails the
 *  unique key and sees the first result instead of acting twice. */
export async function claimRequest(tx: Tx, requestId: string, result: Record<string, unknown>, at: Date) {
  await tx.idempotencyRecord.create({ data: { key: requestId, result: JSON.stringify(result), createdAt: at } });
}

export async function firstResult(db: Db, requestId: string): Promise<Record<string, unknown> | null> {
  const row = await db.idempotencyRecord.findUnique({ where: { key: requestId } });
  return row ? (JSON.parse(row.result) as Record<string, unknown>) : null;
}

/** Throws DuplicateRequest when `requestId` was already handled. Call it before checks that the first
 *  delivery itself changes (name taken, key already revoked), so a repeat is recognised as a repeat. */
export async function refuseRepeat(db: Db, requestId: string | undefined): Promise<void> {
  if (!requestId) return;
  const seen = await firstResult(db, requestId);
  if (seen) throw new DuplicateRequest(seen);
}

/** Runs `work` once per request id. On a repeat (sequential or concurrent) throws DuplicateRequest. */
export async function once<T>(db: Db, requestId: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!requestId) return work();
  const seen = await firstResult(db, requestId);
  if (seen) throw new DuplicateRequest(seen);
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) {
      const first = await firstResult(db, requestId);
      if (first) throw new DuplicateRequest(first);
    }
    throw error;
  }
}
