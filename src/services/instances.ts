import type { Logger } from 'pino';
import type { Db, Tx } from '../db/client.js';
import { sqlRows, sqlRun } from '../db/raw.js';
import { newId } from '../domain/random.js';
import { isUniqueViolation } from '../db/errors.js';

export const HEARTBEAT_MS = 2_000;
/** An instance silent this long is dead: its leases go back to the budgets. */
export const DEAD_AFTER_MS = 15_000;
/**
 * A process reserves against its leases only this long after its last heartbeat, and confirms it
 * still holds them before going on: well inside DEAD_AFTER_MS, so a process that was paused (or
 * cut off from the database) never spends a lease that another one already reclaimed, as long as
 * the replicas' clocks agree within the 5 s between the two.
 */
export const LEASE_VALID_MS = 10_000;

/**
 * The live gateway processes sharing a database (heartbeat table). Rate limits are split evenly
 * among them and budget slices shrink with their number; leases of crashed ones are reclaimed.
 *
 * Budget leases are held under the process's row id. When another process took this one for dead
 * and reclaimed its leases, the row is gone: this process then drops its in-memory leases and
 * rejoins under a new id, so nothing it still runs under the old id (a flush, a lease return) can
 * touch the leases it holds from then on.
 */
export class GatewayInstances {
  private readonly base = newId('gw', 12);
  private generation = 1;
  private current = this.base;
  private liveCount = 1;
  private timer: NodeJS.Timeout | null = null;
  private joining: Promise<void> | null = null;
  private readonly reclaimListeners: (() => void)[] = [];
  /** Leases held under `id` may be used until then (ms on this process's clock). */
  validUntil = 0;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly onChange: (live: number) => void = () => {},
  ) {}

  /** The row this process's leases are held under (a new one after a reclaim). */
  get id() {
    return this.current;
  }

  /** Live processes including this one (>= 1). */
  get live() {
    return this.liveCount;
  }

  /** Called (synchronously) when this process learns that its leases were reclaimed. */
  onReclaimed(listener: () => void) {
    this.reclaimListeners.push(listener);
  }

  async start() {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch((e) => this.logger.warn({ err: e }, 'gateway heartbeat failed')), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Registers the current id once (again after a failed attempt). */
  private join(): Promise<void> {
    this.joining ??= (async () => {
      const id = this.current;
      const at = this.now();
      try {
        await this.db.gatewayInstance.create({ data: { id, startedAt: at, heartbeatAt: at } });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error; // an earlier attempt did commit
      }
      this.renewed(id, at);
    })().catch((error) => {
      this.joining = null;
      throw error;
    });
    return this.joining;
  }

  private renewed(id: string, at: Date) {
    if (id === this.current) this.validUntil = Math.max(this.validUntil, at.getTime() + LEASE_VALID_MS);
  }

  /**
   * Refreshes this process's heartbeat. False when the row was gone: another process reclaimed its
   * leases (they are dropped and the next call joins under a new id).
   */
  async renew(): Promise<boolean> {
    // Every 2 s on every replica: plain SQL on the driver (see db/raw.ts); Prisma only for the rare paths.
    await this.join();
    const id = this.current;
    const at = this.now();
    const n = await sqlRun(this.db, 'UPDATE "GatewayInstance" SET "heartbeatAt" = $1 WHERE "id" = $2', [at, id]);
    if (n === 1) {
      this.renewed(id, at);
      return true;
    }
    this.reclaimed(id);
    return false;
  }

  /**
   * In a transaction that changes this process's lease rows: locks its row (a reclaim deletes it
   * first, so the two cannot interleave). False when the row is gone, i.e. the leases were reclaimed.
   */
  async hold(tx: Tx, id: string, at: Date): Promise<boolean> {
    const { count } = await tx.gatewayInstance.updateMany({ where: { id }, data: { heartbeatAt: at } });
    if (count === 0) this.reclaimed(id);
    return count === 1;
  }

  /** The row `id` was found gone. Only the first report of a loss counts. */
  private reclaimed(id: string) {
    if (id !== this.current) return;
    this.current = `${this.base}.${++this.generation}`;
    this.validUntil = 0;
    this.joining = null;
    this.logger.warn({ instance: id, rejoinAs: this.current }, 'another gateway took this one for dead and reclaimed its budget leases; rejoining');
    for (const listener of this.reclaimListeners) listener();
  }

  async beat() {
    if (!(await this.renew())) await this.join();
    const cutoff = new Date(this.now().getTime() - DEAD_AFTER_MS);
    const [counts] = await sqlRows<{ live: number | string | null; dead: number | string | null }>(this.db,
      'SELECT SUM(CASE WHEN "heartbeatAt" >= $1 THEN 1 ELSE 0 END) AS "live", SUM(CASE WHEN "heartbeatAt" < $2 THEN 1 ELSE 0 END) AS "dead" FROM "GatewayInstance"',
      [cutoff, cutoff]);
    const live = Number(counts?.live ?? 0);
    if (Math.max(1, live) !== this.liveCount) {
      this.liveCount = Math.max(1, live);
      this.onChange(this.liveCount);
    }
    if (Number(counts?.dead ?? 0) === 0) return;
    const dead = await this.db.gatewayInstance.findMany({ where: { heartbeatAt: { lt: cutoff } }, select: { id: true } });
    for (const d of dead) await reclaimInstance(this.db, d.id, cutoff).catch((e) => this.logger.warn({ err: e }, 'lease reclaim failed'));
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.validUntil = 0;
    await reclaimInstance(this.db, this.current, null);
  }
}

/**
 * Returns every lease of `instanceId` to its budget and forgets the instance, in one transaction.
 * With `olderThan`, only if the instance is still silent (two reclaimers cannot both return them).
 * Deleting the instance row first shuts out that process's own lease changes (they lock the row,
 * see `hold`); each lease row is deleted and returned at its value at that moment (RETURNING, after
 * any flush of that process that touched it has committed), so nothing is returned twice.
 */
export async function reclaimInstance(db: Db, instanceId: string, olderThan: Date | null) {
  await db.$transaction(async (tx) => {
    const gone = await tx.gatewayInstance.deleteMany({
      where: { id: instanceId, ...(olderThan ? { heartbeatAt: { lt: olderThan } } : {}) },
    });
    if (olderThan && gone.count === 0) return;
    // Budget rows first, in a fixed order: the usage flush locks a budget before its lease rows.
    const held = await tx.budgetLease.findMany({ where: { instanceId }, select: { limitId: true, period: true }, orderBy: [{ limitId: 'asc' }, { period: 'asc' }] });
    for (const l of held) await tx.$executeRaw`UPDATE "Budget" SET "leasedMicros" = "leasedMicros" WHERE "limitId" = ${l.limitId} AND "period" = ${l.period}`;
    const leases = await tx.$queryRaw<{ limitId: string; period: string; amountMicros: bigint | number }[]>`
      DELETE FROM "BudgetLease" WHERE "instanceId" = ${instanceId} RETURNING "limitId", "period", "amountMicros"`;
    for (const l of leases) {
      await tx.$executeRaw`UPDATE "Budget" SET "leasedMicros" = "leasedMicros" - ${BigInt(l.amountMicros)} WHERE "limitId" = ${l.limitId} AND "period" = ${l.period}`;
    }
  });
}
