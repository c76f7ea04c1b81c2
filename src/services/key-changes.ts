import type { Db, Tx } from '../db/client.js';

/** Appends to the feed gateways poll to drop cached key state (revocation reaches every replica). */
export async function markKeyChanged(tx: Tx | Db, keyId: string, at: Date): Promise<void> {
  await tx.keyChange.create({ data: { keyId, createdAt: at } });
}
