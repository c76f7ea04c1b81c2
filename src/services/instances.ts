import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { sqlRows, sqlRun } from '../db/raw.js';
import { newId } from '../domain/random.js';

export const HEARTBEAT_MS = 2_000;
/** An instance silent this long is dead: its leases go back to the budgets. */
export const DEAD_AFTER_MS = 15_000;

/**
 * The live gateway processes sharing a database (heartbeat table). Rate limits are split evenly
 * among them and budget slices shrink with their number; leases of crashed ones are reclaimed.
 */
export class GatewayInstances {
  readonly id = newId('gw', 12);
  private liveCount = 1;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly onChange: (live: number) => void = () => {},
  ) {}

  /** Live processes including this one (>= 1). */
  get live() {
    return this.liveCount;
  }

  async start() {
    const at = this.now();
    await this.db.gatewayInstance.create({ data: { id: this.id, startedAt: at, heartbeatAt: at } });
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch((e) => this.logger.warn({ err: e }, 'gateway heartbeat failed')), HEARTBEAT_MS);
    this.timer.unref();
  }

  async beat() {
    // Every 2 s on every replica: plain SQL on the driver (see db/raw.ts); Prisma only for the rare paths.
    const at = this.now();
    const beat = await sqlRun(this.db, 'UPDATE "GatewayInstance" SET "heartbeatAt" = $1 WHERE "id" = $2', [at, this.id]);
    // Another process took this one for dead (a long pause) and removed it: come back.
    if (beat === 0) await this.db.gatewayInstance.create({ data: { id: this.id, startedAt: at, heartbeatAt: at } });
    const cutoff = new Date(at.getTime() - DEAD_AFTER_MS);
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
    await reclaimInstance(this.db, this.id, null);
  }
}

/**
 * Returns every lease of `instanceId` to its budget and forgets the instance, in one transaction.
 * With `olderThan`, only if the instance is still silent (two reclaimers cannot both return them).
 */
export async function reclaimInstance(db: Db, instanceId: string, olderThan: Date | null) {
  await db.$transaction(async (tx) => {
    const gone = await tx.gatewayInstance.deleteMany({
      where: { id: instanceId, ...(olderThan ? { heartbeatAt: { lt: olderThan } } : {}) },
    });
    if (olderThan && gone.count === 0) return;
    const leases = await tx.budgetLease.findMany({ where: { instanceId } });
    for (const l of leases) {
      await tx.$executeRaw`UPDATE "Budget" SET "leasedMicros" = "leasedMicros" - ${l.amountMicros} WHERE "limitId" = ${l.limitId} AND "period" = ${l.period}`;
    }
    await tx.budgetLease.deleteMany({ where: { instanceId } });
  });
}
