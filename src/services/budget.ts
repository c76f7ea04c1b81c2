import type { Logger } from 'pino';
import type { Db, Tx } from '../db/client.js';
import { isUniqueViolation } from './projects.js';

/**
 * Budget leases (flows.md §2): each gateway process leases a slice of a hard budget with one atomic
 * statement (`spent + leased + slice <= hard`), reserves requests against the slice in memory, and
 * turns settled cost into spend when usage is flushed. The sum of all reservations across processes
 * can therefore never exceed the hard limit; overshoot comes only from a request costing more than
 * it reserved. Amounts are integer micro-dollars (safe as numbers in memory, BigInt in the database).
 */
export class Ledger {
  /** Leased to this process (mirrors its BudgetLease row). */
  lease = 0;
  /** Held by requests in flight. */
  reserved = 0;
  /** Settled cost not yet flushed. */
  settled = 0;
  /** Settled cost inside a running flush. */
  flushing = 0;
  lastUse = 0;
  acquiring: Promise<boolean> | null = null;
  /** Last refused acquisition: needs at least this large fail fast for a moment. */
  deniedNeed = Infinity;
  deniedAt = 0;

  constructor(
    readonly limitId: string,
    readonly period: string,
    public hard: number,
  ) {}

  get free() {
    return this.lease - this.reserved - this.settled - this.flushing;
  }
}

const DENIED_TTL_MS = 500;
/** A process leases at most this share of a hard limit at once (and less as the budget runs out). */
const MAX_SLICE_SHARE = 20;

export interface SpendSnapshot {
  ledgers: { ledger: Ledger; amount: number }[];
}

export class BudgetLeases {
  private readonly ledgers = new Map<string, Ledger>();

  constructor(
    private readonly db: Db,
    readonly instanceId: string,
    private readonly logger: Logger,
    private readonly liveInstances: () => number,
    private readonly nowMs: () => number,
  ) {}

  ledger(limitId: string, period: string, hard: number): Ledger {
    const k = `${limitId}|${period}`;
    let l = this.ledgers.get(k);
    if (!l) this.ledgers.set(k, (l = new Ledger(limitId, period, hard)));
    else l.hard = hard;
    return l;
  }

  /** Reserves `amount` against the ledger: synchronous when the local slice covers it. */
  reserve(l: Ledger, amount: number): boolean | Promise<boolean> {
    l.lastUse = this.nowMs();
    if (l.free >= amount) {
      l.reserved += amount;
      return true;
    }
    return this.reserveSlow(l, amount);
  }

  private async reserveSlow(l: Ledger, amount: number): Promise<boolean> {
    for (;;) {
      if (l.free >= amount) {
        l.reserved += amount;
        return true;
      }
      if (l.acquiring) {
        await l.acquiring;
        continue;
      }
      const need = amount - l.free;
      if (need >= l.deniedNeed && this.nowMs() - l.deniedAt < DENIED_TTL_MS) return false;
      l.acquiring = this.acquire(l, need).finally(() => (l.acquiring = null));
      if (!(await l.acquiring)) {
        l.deniedNeed = need;
        l.deniedAt = this.nowMs();
        if (l.free >= amount) continue;
        return false;
      }
    }
  }

  /** The request ended: its reservation becomes its real cost (0 on errors = release). */
  settle(l: Ledger, reservedAmount: number, cost: number) {
    l.reserved -= reservedAmount;
    l.settled += cost;
  }

  /** Leases at least `need` more (a bigger slice while the budget is far from its end). */
  private async acquire(l: Ledger, need: number): Promise<boolean> {
    const now = new Date(this.nowMs());
    try {
      await ensureBudgetRow(this.db, l.limitId, l.period, now);
      return await this.db.$transaction(async (tx) => {
        const row = await tx.budget.findUniqueOrThrow({ where: { limitId_period: { limitId: l.limitId, period: l.period } } });
        const remaining = l.hard - Number(row.spentMicros) - Number(row.leasedMicros);
        if (remaining < need) return false;
        const slice = Math.max(need, Math.min(Math.floor(l.hard / MAX_SLICE_SHARE), Math.floor(remaining / (2 * this.liveInstances()))));
        for (const amount of slice > need ? [slice, need] : [need]) {
          const big = BigInt(amount);
          const n = await tx.$executeRaw`UPDATE "Budget" SET "leasedMicros" = "leasedMicros" + ${big}
            WHERE "limitId" = ${l.limitId} AND "period" = ${l.period} AND "spentMicros" + "leasedMicros" + ${big} <= ${BigInt(l.hard)}`;
          if (n === 1) {
            await addToLease(tx, l, this.instanceId, amount, now);
            l.lease += amount;
            return true;
          }
        }
        return false;
      });
    } catch (error) {
      this.logger.error({ err: error, limitId: l.limitId }, 'budget lease failed');
      throw error;
    }
  }

  /** Moves settled cost into `flushing` for the caller's transaction (see commitSpend / abortSpend). */
  takeSpend(): SpendSnapshot {
    const ledgers: SpendSnapshot['ledgers'] = [];
    for (const l of this.ledgers.values()) {
      if (l.settled === 0) continue;
      ledgers.push({ ledger: l, amount: l.settled });
      l.flushing += l.settled;
      l.settled = 0;
    }
    return { ledgers };
  }

  /** For the flush transaction: the consumed part of each lease becomes spend (the writer adds spend). */
  spendOps(snap: SpendSnapshot): { limitId: string; period: string; used: bigint }[] {
    const ops = [];
    for (const { ledger: l, amount } of snap.ledgers) {
      const used = BigInt(Math.min(amount, Math.max(0, l.lease)));
      if (used !== 0n) ops.push({ limitId: l.limitId, period: l.period, used });
    }
    return ops;
  }

  /** In a Prisma transaction: the same as the flush does with spendOps. */
  async writeSpend(tx: Tx, snap: SpendSnapshot, now: Date) {
    for (const { limitId, period, used } of this.spendOps(snap)) {
      await tx.$executeRaw`UPDATE "Budget" SET "leasedMicros" = "leasedMicros" - ${used} WHERE "limitId" = ${limitId} AND "period" = ${period}`;
      await tx.budgetLease.updateMany({
        where: { limitId, period, instanceId: this.instanceId },
        data: { amountMicros: { decrement: used }, updatedAt: now },
      });
    }
  }

  commitSpend(snap: SpendSnapshot) {
    for (const { ledger: l, amount } of snap.ledgers) {
      l.flushing -= amount;
      l.lease = Math.max(0, l.lease - amount);
    }
  }

  abortSpend(snap: SpendSnapshot) {
    for (const { ledger: l, amount } of snap.ledgers) {
      l.flushing -= amount;
      l.settled += amount;
    }
  }

  /**
   * Gives back unused slices so the last dollars are not stranded in one process: slices idle for
   * `idleMs`, and everything (idleMs = 0) at shutdown. Ledgers of past periods are dropped.
   */
  async returnIdle(idleMs: number, currentPeriod: string) {
    const now = this.nowMs();
    for (const [k, l] of this.ledgers) {
      if (l.acquiring || now - l.lastUse < idleMs) continue;
      const back = l.lease - l.reserved - l.settled - l.flushing;
      if (back > 0) {
        l.lease -= back;
        try {
          await this.db.$transaction(async (tx) => {
            const big = BigInt(back);
            const at = new Date(now);
            await tx.$executeRaw`UPDATE "Budget" SET "leasedMicros" = "leasedMicros" - ${big} WHERE "limitId" = ${l.limitId} AND "period" = ${l.period}`;
            await tx.budgetLease.updateMany({
              where: { limitId: l.limitId, period: l.period, instanceId: this.instanceId },
              data: { amountMicros: { decrement: big }, updatedAt: at },
            });
          });
        } catch (error) {
          l.lease += back;
          this.logger.warn({ err: error, limitId: l.limitId }, 'returning a budget slice failed; will retry');
          continue;
        }
      }
      if (l.period !== currentPeriod && l.lease === 0 && l.reserved === 0 && l.settled === 0 && l.flushing === 0) this.ledgers.delete(k);
    }
  }

  /** For tests and metrics. */
  get all(): Ledger[] {
    return [...this.ledgers.values()];
  }
}

/** Creates the budget row if missing. Outside transactions: on PostgreSQL a unique violation would
 *  abort the surrounding transaction. */
export async function ensureBudgetRow(db: Db, limitId: string, period: string, now: Date) {
  const exists = await db.budget.findUnique({ where: { limitId_period: { limitId, period } }, select: { period: true } });
  if (exists) return;
  try {
    await db.budget.create({ data: { limitId, period, updatedAt: now } });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
}

async function addToLease(tx: Tx, l: Ledger, instanceId: string, amount: number, now: Date) {
  const where = { limitId_period_instanceId: { limitId: l.limitId, period: l.period, instanceId } };
  await tx.budgetLease.upsert({
    where,
    create: { limitId: l.limitId, period: l.period, instanceId, amountMicros: BigInt(amount), updatedAt: now },
    update: { amountMicros: { increment: BigInt(amount) }, updatedAt: now },
  });
}
