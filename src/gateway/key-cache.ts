import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { sqlRows } from '../db/raw.js';
import { scopeFromDb, type Scope } from '../domain/keys.js';
import { orgLimitId, projectLimitId } from '../services/limits.js';

/** Limits as the hot path reads them (numbers, micro-dollars). */
export interface LimitState {
  hard: number | null;
  soft: number | null;
  rpm: number | null;
  itpm: number | null;
  otpm: number | null;
}

/** What the hot path needs to know about a secret (by hash). */
export interface KeyState {
  keyId: string;
  orgId: string;
  projectId: string;
  projectName: string;
  scope: Scope;
  active: boolean;
  /** ms; Infinity = never. For a rotated key's previous secret: the grace end. */
  usableUntil: number;
  rpm: number | null;
  /** Map keys for limits and buckets, built once per key instead of per request. */
  ids: {
    projectLimit: string; orgLimit: string;
    keyRequests: string; projectRequests: string; orgRequests: string;
    projectInput: string; orgInput: string; projectOutput: string; orgOutput: string;
  };
}

const NEGATIVE_TTL_MS = 30_000;
const MAX_NEGATIVE = 10_000;
export const POLL_MS = 250;
// Four times a second on every replica: plain SQL on the driver (see db/raw.ts), a primary-key range
// that is empty almost always. Ids commit in order (services/key-changes.ts), so none is skipped.
const POLL_SQL = 'SELECT "id", "keyId" FROM "KeyChange" WHERE "id" > $1 ORDER BY "id"';

/**
 * hash → key state, filled from the database on a miss (concurrent misses share one read) and
 * invalidated by polling the KeyChange feed, so a revocation reaches every replica within ~250 ms.
 * Unknown hashes are remembered briefly so garbage keys cannot hammer the database.
 */
export class KeyCache {
  private readonly byHash = new Map<string, KeyState>();
  private readonly hashesByKey = new Map<string, string[]>();
  private readonly negative = new Map<string, number>();
  private readonly loading = new Map<string, Promise<KeyState | null>>();
  /** Negative answers are not trusted while a changed key's hashes are being looked up. */
  private forgetting = 0;
  /** Bumped on every invalidation: a read that started before it is not cached. */
  private epoch = 0;
  private cursor = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly nowMs: () => number,
  ) {}

  get size() {
    return this.byHash.size + this.negative.size;
  }

  /** Cached state, `null` for a known-bad hash, `undefined` when the database must be asked. */
  peek(hash: string): KeyState | null | undefined {
    const hit = this.byHash.get(hash);
    if (hit) return hit;
    const until = this.forgetting === 0 ? this.negative.get(hash) : undefined;
    if (until !== undefined) {
      if (until > this.nowMs()) return null;
      this.negative.delete(hash);
    }
    return undefined;
  }

  load(hash: string): Promise<KeyState | null> {
    let p = this.loading.get(hash);
    if (!p) {
      p = this.read(hash).finally(() => this.loading.delete(hash));
      this.loading.set(hash, p);
    }
    return p;
  }

  private async read(hash: string): Promise<KeyState | null> {
    const epoch = this.epoch;
    const row = await this.db.apiKey.findFirst({
      where: { OR: [{ secretHash: hash }, { prevSecretHash: hash }] },
      include: { project: { select: { name: true } } },
    });
    let state: KeyState | null = null;
    if (row) {
      const current = row.secretHash === hash;
      const expires = row.expiresAt?.getTime() ?? Infinity;
      const grace = current ? Infinity : (row.graceEndsAt?.getTime() ?? 0);
      state = {
        keyId: row.id, orgId: row.orgId, projectId: row.projectId, projectName: row.project.name,
        scope: scopeFromDb(row.scope), active: row.status === 'active',
        usableUntil: Math.min(expires, grace), rpm: row.rpm,
        ids: {
          projectLimit: projectLimitId(row.projectId), orgLimit: orgLimitId(row.orgId),
          keyRequests: `k:${row.id}:r`, projectRequests: `p:${row.projectId}:r`, orgRequests: `o:${row.orgId}:r`,
          projectInput: `p:${row.projectId}:i`, orgInput: `o:${row.orgId}:i`,
          projectOutput: `p:${row.projectId}:o`, orgOutput: `o:${row.orgId}:o`,
        },
      };
    }
    if (epoch !== this.epoch) return state; // changed while reading: answer, but do not cache
    if (state) {
      this.byHash.set(hash, state);
      const list = this.hashesByKey.get(state.keyId);
      if (list) list.push(hash);
      else this.hashesByKey.set(state.keyId, [hash]);
    } else {
      // Bounded: the oldest entry goes (a flood of garbage keys cannot clear the others at once).
      if (this.negative.size >= MAX_NEGATIVE) this.negative.delete(this.negative.keys().next().value!);
      this.negative.set(hash, this.nowMs() + NEGATIVE_TTL_MS);
    }
    return state;
  }

  invalidate(keyId: string) {
    this.epoch += 1;
    for (const h of this.hashesByKey.get(keyId) ?? []) this.byHash.delete(h);
    this.hashesByKey.delete(keyId);
    if (this.negative.size > 0) void this.forgetNegatives(keyId);
  }

  /**
   * A new or rotated secret may have been looked up before it existed: forget the negative answers
   * for this key's hashes only, so garbage keys stay cached across unrelated key changes. Until the
   * read returns, negative answers are not used at all (misses go to the database, coalesced).
   */
  private async forgetNegatives(keyId: string) {
    this.forgetting += 1;
    try {
      const row = await this.db.apiKey.findUnique({ where: { id: keyId }, select: { secretHash: true, prevSecretHash: true } });
      if (row?.secretHash) this.negative.delete(row.secretHash);
      if (row?.prevSecretHash) this.negative.delete(row.prevSecretHash);
    } catch (error) {
      this.logger.warn({ err: error, keyId }, 'key lookup after a change failed; forgetting all unknown keys');
      this.negative.clear();
    } finally {
      this.forgetting -= 1;
    }
  }

  async start() {
    const last = await this.db.keyChange.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
    this.cursor = last?.id ?? 0;
    this.timer = setInterval(() => void this.poll().catch((e) => this.logger.warn({ err: e }, 'key change poll failed')), POLL_MS);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Drops the cached state of every key changed since the last poll. */
  async poll() {
    const rows = await sqlRows<{ id: number | string; keyId: string }>(this.db, POLL_SQL, [this.cursor]);
    for (const row of rows) {
      this.cursor = Math.max(this.cursor, Number(row.id));
      this.invalidate(row.keyId);
    }
  }
}
