import type { Db, Tx } from '../db/client.js';

/**
 * Locks the feed row until the caller's transaction ends. PostgreSQL takes a KeyChange id when the
 * row is inserted, not when it commits: without the lock, an id smaller than one a gateway already
 * read could commit later and never be seen. Holding this lock, each writer takes its id only after
 * the previous writer committed, so ids appear in commit order and polling "id > last seen" cannot
 * skip one (the same SQL serialises nothing new on SQLite, whose writers are serialised already).
 * Key changes are rare and short, so making them wait on each other costs nothing that matters.
 */
const LOCK_FEED = `INSERT INTO "KeyChangeFeed" ("id", "version") VALUES (1, 1)
  ON CONFLICT ("id") DO UPDATE SET "version" = "KeyChangeFeed"."version" + 1`;

/** Appends to the feed gateways poll to drop cached key state (revocation reaches every replica). */
export async function markKeyChanged(tx: Tx | Db, keyId: string, at: Date): Promise<void> {
  // The lock must last until the row commits: outside a transaction, open one.
  if ('$transaction' in tx) return tx.$transaction((inner) => markKeyChanged(inner, keyId, at));
  await tx.$executeRawUnsafe(LOCK_FEED);
  await tx.keyChange.create({ data: { keyId, createdAt: at } });
}
