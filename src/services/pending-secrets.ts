import { REVEAL_WINDOW_MS } from '../domain/durations.js';
import { deriveKey, open, seal } from '../domain/crypto.js';
import { invalid, notFound, forbidden } from '../domain/errors.js';
import { newId } from '../domain/random.js';
import { audit } from './audit.js';
import { nowOf, type Actor, type ServiceDeps } from './context.js';

/**
 * A new secret waiting for its one-time reveal (Slack's ephemeral delivery is not guaranteed).
 * Stored sealed with AES-256-GCM (key derived from KEYWARD_SECRET, id bound as AAD) and erased on
 * reveal or after 15 minutes.
 */
export class PendingSecretService {
  private readonly key: Buffer;

  constructor(private readonly deps: ServiceDeps) {
    this.key = deriveKey(deps.secret, 'pending-secret');
  }

  private now() {
    return nowOf(this.deps);
  }

  async stash(keyId: string, userId: string, secret: string) {
    const id = newId('rvl');
    const expiresAt = new Date(this.now().getTime() + REVEAL_WINDOW_MS);
    await this.deps.db.pendingSecret.create({
      data: { id, keyId, userId, ciphertext: seal(this.key, secret, id), expiresAt, createdAt: this.now() },
    });
    return { id, expiresAt };
  }

  async attachMessage(id: string, channelId: string, messageTs: string) {
    await this.deps.db.pendingSecret.update({ where: { id }, data: { channelId, messageTs } });
  }

  /** Returns the secret exactly once, to its owner, within the window; erases it in the same step. */
  async reveal(actor: Actor, id: string): Promise<{ keyId: string; secret: string; channelId: string | null; messageTs: string | null }> {
    const now = this.now();
    const { db } = this.deps;
    const row = await db.pendingSecret.findUnique({ where: { id } });
    if (!row) throw notFound('That reveal link is unknown.');
    if (row.userId !== actor.userId) throw forbidden('Only the person the key was created for can reveal it.');
    if (!row.ciphertext || row.revealedAt) {
      throw invalid(`This secret was already revealed${row.revealedAt ? '' : ' or has expired'}. Rotate ${row.keyId} (\`/keys rotate ${row.keyId}\`) to get a new one.`);
    }
    if (row.expiresAt.getTime() <= now.getTime()) {
      await this.erase(id, now);
      throw invalid(`The 15-minute reveal window has passed. Rotate ${row.keyId} (\`/keys rotate ${row.keyId}\`) to get a new secret.`);
    }
    const current = await db.apiKey.findUnique({ where: { id: row.keyId }, select: { status: true } });
    if (current?.status !== 'active') {
      await this.erase(id, now);
      throw invalid(`${row.keyId} is ${current?.status ?? 'gone'}: there is nothing to reveal.`);
    }
    // Claim by erasing first: of two concurrent clicks only one update matches.
    const claimed = await db.pendingSecret.updateMany({
      where: { id, ciphertext: row.ciphertext, revealedAt: null },
      data: { ciphertext: null, revealedAt: now, erasedAt: now },
    });
    if (claimed.count === 0) throw invalid('This secret was already revealed.');
    const secret = open(this.key, row.ciphertext, id);
    // With its project, so project-scoped audit views show reveals too.
    const key = await db.apiKey.findUnique({ where: { id: row.keyId }, select: { projectId: true } });
    await audit(db, actor, now, { action: 'key.secret_revealed', projectId: key?.projectId ?? null, targetType: 'key', targetId: row.keyId });
    return { keyId: row.keyId, secret, channelId: row.channelId, messageTs: row.messageTs };
  }

  private async erase(id: string, now: Date) {
    await this.deps.db.pendingSecret.updateMany({ where: { id, erasedAt: null }, data: { ciphertext: null, erasedAt: now } });
  }

  /** Erases every secret past its window; returns them so their Reveal buttons can be replaced. */
  async sweepExpired() {
    const now = this.now();
    const { db } = this.deps;
    const due = await db.pendingSecret.findMany({ where: { erasedAt: null, expiresAt: { lte: now } } });
    const erased = [];
    for (const row of due) {
      const r = await db.pendingSecret.updateMany({ where: { id: row.id, erasedAt: null }, data: { ciphertext: null, erasedAt: now } });
      if (r.count === 1) erased.push(row);
    }
    return erased;
  }

  async discard(id: string) {
    await this.erase(id, this.now());
  }
}
