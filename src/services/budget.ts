import type { Logger } from 'pino';
import type { Db, Tx } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';

/**
 * Budget leases (flows.md §2): each gateway process leases a slice of a hard budget with one atomic
 * statement (`spent + leased + slice <= hard`), reserves requests against the slice in memory, and
 * turns settled cost into spend when usage is flushed. The sum of all reservations across processes
 * can therefore never exceed the hard limit; overshoot comes only from a request costing more than
 * it reserved. Amounts are integer micro-dollars (safe as numbers in memory, BigInt in the database).
 *
 * A lease row belongs to one holder id (services/instances.ts). Every change to it is conditional on
 * the row still being there, and `Budget.leasedMicros` moves only with a row that did change, so the
 * budget always equals the sum of its lease rows, whatever reclaims run concurrently. A process whose
 * leases were reclaimed drops them in memory; what its requests in flight still hold is then leased
 * again before it admits more.
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

/** The process that holds the leases (GatewayInstances). */
export interface LeaseHolder {
  /** The id lease rows are held under; it changes when the leases were reclaimed. */
  readonly id: string;
  readonly live: number;
  /** Leases may be reserved against until then (ms); later `renew` must confirm them first. */
  readonly validUntil: number;
  /** False when the leases were reclaimed (they are dropped, see onReclaimed). */
  renew(): Promise<boolean>;
  /** In a lease transaction: locks the holder row `id`; false when it was reclaimed. */
  hold(tx: Tx, id: string, at: Date): Promise<boolean>;
  onReclaimed(listener: () => void): void;
}

const DENIED_TTL_MS = 500;
/** A process leases at most this share of a hard limit at once (and less as the budget runs out). */
const MAX_SLICE_SHARE = 20;

export interface SpendSnapshot {
  /** The holder id the consumed leases belong to. */
  owner: string;
  /** `used`: the part of `amount` taken from the lease (the rest was not leased, see dropLeases). */
  ledgers: { ledger: Ledger; amount: number; used: number }[];
}

type Acquired = 'granted' | 'denied' | 'reclaimed';

export class BudgetLeases {
  private readonly ledgers = new Map<string, Ledger>();
  private confirming: Promise<boolean> | null = null;

  constructor(
    private readonly db: Db,
    private readonly holder: LeaseHolder,
    private readonly logger: Logger,
    private readonly nowMs: () => number,
  ) {
    holder.onReclaimed(() => this.dropLeases());
  }

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
    if (l.free >= amount && l.lastUse < this.holder.validUntil) {
      l.reserved += amount;
      return true;
    }
    return this.reserveSlow(l, amount);
  }

  private async reserveSlow(l: Ledger, amount: number): Promise<boolean> {
    for (;;) {
      if (this.nowMs() >= this.holder.validUntil) {
        // Silent too long (a pause, the database out of reach): make sure the leases are still ours.
        await (this.confirming ??= this.holder.renew().finally(() => (this.confirming = null)));
        continue;
      }
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
      const acquiring = this.acquire(l, need);
      l.acquiring = acquiring.then((r) => r === 'granted', () => false).finally(() => (l.acquiring = null));
      const result = await acquiring;
      if (result === 'reclaimed') continue;
      if (result === 'denied') {
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
  private async acquire(l: Ledger, need: number): Promise<Acquired> {
    const now = new Date(this.nowMs());
    const owner = this.holder.id;
    try {
      await ensureBudgetRow(this.db, l.limitId, l.period, now);
      const got = await this.db.$transaction(async (tx): Promise<number | 'reclaimed'> => {
        if (!(await this.holder.hold(tx, owner, now))) return 'reclaimed';
        const row = await tx.budget.findUniqueOrThrow({ where: { limitId_period: { limitId: l.limitId, period: l.period } } });
        const remaining = l.hard - Number(row.spentMicros) - Number(row.leasedMicros);
        if (remaining < need) return 0;
        const slice = Math.max(need, Math.min(Math.floor(l.hard / MAX_SLICE_SHARE), Math.floor(remaining / (2 * this.holder.live))));
        for (const amount of slice > need ? [slice, need] : [need]) {
          const big = BigInt(amount);
          const n = await tx.$executeRaw`UPDATE "Budget" SET "leasedMicros" = "leasedMicros" + ${big}
            WHERE "limitId" = ${l.limitId} AND "period" = ${l.period} AND "spentMicros" + "leasedMicros" + ${big} <= ${BigInt(l.hard)}`;
          if (n === 1) {
            await addToLease(tx, l, owner, amount, now);
            return amount;
          }
        }
        return 0;
      });
      if (got === 'reclaimed') return got;
      // Reclaimed right after the commit (found out meanwhile): the reclaim returned this slice too.
      if (owner !== this.holder.id) return 'reclaimed';
      l.lease += got;
      return got > 0 ? 'granted' : 'denied';
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
      ledgers.push({ ledger: l, amount: l.settled, used: Math.min(l.settled, Math.max(0, l.lease)) });
      l.flushing += l.settled;
      l.settled = 0;
    }
    return { owner: this.holder.id, ledgers };
  }

  /**
   * For the flush transaction (the writer adds the spend): the consumed part of each lease leaves
   * the lease row of `snap.owner` and the budget's leasedMicros, only if that row still holds it.
   */
  spendOps(snap: SpendSnapshot): { limitId: string; period: string; used: bigint }[] {
    const ops = [];
    for (const { ledger: l, used } of snap.ledgers) {
      if (used > 0) ops.push({ limitId: l.limitId, period: l.period, used: BigInt(used) });
    }
    return ops;
  }

  commitSpend(snap: SpendSnapshot) {
    const same = snap.owner === this.holder.id;
    for (const { ledger: l, amount, used } of snap.ledgers) {
      l.flushing -= amount;
      // After a reclaim the lease in memory is a new one: the old one's rows went back whole.
      if (same) l.lease = Math.max(0, l.lease - used);
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
        const owner = this.holder.id;
        l.lease -= back;
        try {
          await this.db.$transaction(async (tx) => {
            const big = BigInt(back);
            const at = new Date(now);
            // Reclaimed: the whole lease went back already (and the ledger was dropped).
            if (!(await this.holder.hold(tx, owner, at))) return;
            await tx.$executeRaw`UPDATE "Budget" SET "leasedMicros" = "leasedMicros" - ${big} WHERE "limitId" = ${l.limitId} AND "period" = ${l.period}`;
            const { count } = await tx.budgetLease.updateMany({
              where: { limitId: l.limitId, period: l.period, instanceId: owner, amountMicros: { gte: big } },
              data: { amountMicros: { decrement: big }, updatedAt: at },
            });
            if (count !== 1) throw new Error(`lease row of ${owner} holds less than ${back} for ${l.limitId}`);
          });
        } catch (error) {
          if (owner === this.holder.id) l.lease += back;
          this.logger.warn({ err: error, limitId: l.limitId }, 'returning a budget slice failed; will retry');
          continue;
        }
      }
      if (l.period !== currentPeriod && l.lease === 0 && l.reserved === 0 && l.settled === 0 && l.flushing === 0) this.ledgers.delete(k);
    }
  }

  /** The leases were reclaimed: they are no longer ours. Requests in flight keep their reservations,
   *  which the next acquisition leases again (free is negative until then). */
  private dropLeases() {
    for (const l of this.ledgers.values()) {
      l.lease = 0;
      l.deniedNeed = Infinity;
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
