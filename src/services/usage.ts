import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { join as sqlJoin, sqltag as sql } from '@prisma/client/runtime/client';
import type { TokenUsage } from '../domain/pricing.js';
import { PeriodCache, periodDayRange, type Period } from '../domain/periods.js';
import { newId } from '../domain/random.js';
import { errorBucket, latencyBucket } from '../domain/report.js';
import { ensureBudgetRow, type BudgetLeases } from './budget.js';
import { orgLimitId, projectLimitId } from './limits.js';

/** Small chunks: Prisma's per-statement cost grows faster than linearly with parameters, and
 *  with SQLite every statement blocks the event loop, so 64 rows keep each pause to ~2 ms. */
const EVENT_CHUNK = 64;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One request through the gateway, as captured on the hot path (no I/O). */
export interface UsageRecord {
  orgId: string;
  projectId: string;
  keyId: string;
  model: string;
  status: number;
  errorClass: string | null;
  stream: boolean;
  usage: TokenUsage;
  costMicros: number;
  latencyMs: number;
  overheadUs: number;
  at: Date;
  /** Month the cost counts against (org time zone). */
  period: string;
}

/** Order of the error split columns on UsageDaily (err401, err403, err429, err5xx, errOther). */
const ERROR_COLUMNS = ['unauthorized', 'forbidden', 'rateLimited', 'server', 'other'] as const;

interface DailyAcc {
  r: UsageRecord;
  day: string;
  requests: number;
  errors: number;
  input: number;
  output: number;
  read: number;
  write: number;
  cost: bigint;
  split: [number, number, number, number, number];
  latency: bigint;
}

/** A budget's spend moved by one committed flush (for alerts right after the flush). */
export interface SpendChange {
  limitId: string;
  period: string;
  beforeMicros: bigint;
  afterMicros: bigint;
}

/** lastUsedAt is written at most this often per key. */
const LAST_USED_EVERY_MS = 60_000;

/**
 * Buffers usage events in memory and writes them in batches: raw events, the daily rollup, budget
 * spend and consumed leases in one transaction, so a crash never counts a request twice or half.
 */
export class UsageWriter {
  private queue: UsageRecord[] = [];
  private running: Promise<void> | null = null;
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly ensured = new Set<string>();
  private readonly spendListeners: ((changes: SpendChange[]) => void)[] = [];
  /** Day boundaries in the org time zone, recomputed only when a day ends (Intl is slow per event). */
  private readonly days: PeriodCache;

  constructor(
    private readonly db: Db,
    private readonly tz: string,
    private readonly logger: Logger,
    private readonly budgets: BudgetLeases | null,
  ) {
    this.days = new PeriodCache('day', tz);
  }

  /** Event ids: a random per-process prefix and a counter (random bytes per event cost CPU on a busy gateway). */
  private readonly idPrefix = `${newId('use', 12)}_`;
  private idCounter = 0;
  private nextEventId() {
    return this.idPrefix + (this.idCounter++).toString(36);
  }

  push(r: UsageRecord) {
    this.queue.push(r);
  }

  /** Called after each committed flush that added spend; must not block (it runs on the flush path). */
  onSpend(listener: (changes: SpendChange[]) => void) {
    this.spendListeners.push(listener);
  }

  get depth() {
    return this.queue.length;
  }

  /** Writes everything queued so far; concurrent callers share the running flush, then run again. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.queue.length === 0 && !this.hasSpend()) return;
    this.running = this.write().finally(() => (this.running = null));
    return this.running;
  }

  private hasSpend() {
    return this.budgets?.all.some((l) => l.settled > 0) ?? false;
  }

  private async write() {
    const batch = this.queue;
    this.queue = [];
    const spend = this.budgets?.takeSpend() ?? { ledgers: [] };
    try {
      await this.writeBatch(batch, spend);
      this.budgets?.commitSpend(spend);
    } catch (error) {
      this.queue = batch.concat(this.queue);
      this.budgets?.abortSpend(spend);
      this.logger.error({ err: error, events: batch.length }, 'usage flush failed; will retry');
      throw error;
    }
  }

  private async writeBatch(batch: UsageRecord[], spend: ReturnType<BudgetLeases['takeSpend']>) {
    const now = new Date();
    const daily = new Map<string, DailyAcc>();
    // Latency histogram per (day, project): p95 for /usage and the digest without raw events.
    const latency = new Map<string, { day: string; orgId: string; projectId: string; bucket: number; count: number }>();
    const budgetSpend = new Map<string, { limitId: string; period: string; cost: bigint }>();
    const lastUsed = new Map<string, Date>();
    for (const r of batch) {
      const day = this.days.at(r.at).key;
      const k = `${day}|${r.keyId}|${r.model}`;
      let d = daily.get(k);
      if (!d) daily.set(k, (d = { r, day, requests: 0, errors: 0, input: 0, output: 0, read: 0, write: 0, cost: 0n, split: [0, 0, 0, 0, 0], latency: 0n }));
      d.requests += 1;
      if (r.errorClass) d.errors += 1;
      const bucket = errorBucket(r.status) ?? (r.errorClass ? 'other' : null);
      if (bucket) d.split[ERROR_COLUMNS.indexOf(bucket)]! += 1;
      const ms = Math.max(0, Math.round(r.latencyMs));
      d.latency += BigInt(ms);
      const lb = latencyBucket(ms);
      const lk = `${day}|${r.projectId}|${lb}`;
      const l = latency.get(lk);
      if (l) l.count += 1;
      else latency.set(lk, { day, orgId: r.orgId, projectId: r.projectId, bucket: lb, count: 1 });
      d.input += r.usage.input;
      d.output += r.usage.output;
      d.read += r.usage.cacheRead;
      d.write += r.usage.cacheWrite;
      d.cost += BigInt(r.costMicros);
      if (r.costMicros > 0) {
        for (const limitId of [projectLimitId(r.projectId), orgLimitId(r.orgId)]) {
          const bk = `${limitId}|${r.period}`;
          const b = budgetSpend.get(bk);
          if (b) b.cost += BigInt(r.costMicros);
          else budgetSpend.set(bk, { limitId, period: r.period, cost: BigInt(r.costMicros) });
        }
      }
      if (r.status < 400) {
        const seen = lastUsed.get(r.keyId);
        if (!seen || seen < r.at) lastUsed.set(r.keyId, r.at);
      }
    }
    // Budget rows are created outside the transaction (a unique violation aborts a PostgreSQL one).
    for (const [k, b] of budgetSpend) {
      if (this.ensured.has(k)) continue;
      await ensureBudgetRow(this.db, b.limitId, b.period, now);
      this.ensured.add(k);
    }
    const touch = [...lastUsed].filter(([id, at]) => at.getTime() - (this.lastUsedWritten.get(id) ?? 0) >= LAST_USED_EVERY_MS);
    const changes: SpendChange[] = [];

    await this.db.$transaction(async (tx) => {
      // One multi-row INSERT per chunk: Prisma's createMany costs far more CPU per row on the hot process.
      for (let i = 0; i < batch.length; i += EVENT_CHUNK) {
        const rows = batch.slice(i, i + EVENT_CHUNK).map((r) => sql`(${this.nextEventId()}, ${r.orgId}, ${r.projectId},
          ${r.keyId}, ${r.model}, ${r.status}, ${r.errorClass}, ${r.stream}, ${r.usage.input}, ${r.usage.output},
          ${r.usage.cacheRead}, ${r.usage.cacheWrite}, ${BigInt(r.costMicros)}, ${Math.round(r.latencyMs)},
          ${Math.round(r.overheadUs)}, ${r.at})`);
        await tx.$executeRaw`INSERT INTO "UsageEvent" ("id", "orgId", "projectId", "keyId", "model", "status", "errorClass",
          "stream", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "costMicros", "latencyMs",
          "overheadUs", "createdAt") VALUES ${sqlJoin(rows)}`;
        // SQLite statements run synchronously: let waiting requests through between chunks.
        await yieldToEventLoop();
      }
      // INSERT .. ON CONFLICT .. DO UPDATE is the same SQL on SQLite and PostgreSQL and is race-free.
      for (const d of daily.values()) {
        await tx.$executeRaw`INSERT INTO "UsageDaily" ("day", "keyId", "model", "orgId", "projectId", "requests", "errors",
            "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "costMicros",
            "err401", "err403", "err429", "err5xx", "errOther", "latencyMsSum")
          VALUES (${d.day}, ${d.r.keyId}, ${d.r.model}, ${d.r.orgId}, ${d.r.projectId}, ${d.requests}, ${d.errors},
            ${BigInt(d.input)}, ${BigInt(d.output)}, ${BigInt(d.read)}, ${BigInt(d.write)}, ${d.cost},
            ${d.split[0]}, ${d.split[1]}, ${d.split[2]}, ${d.split[3]}, ${d.split[4]}, ${d.latency})
          ON CONFLICT ("day", "keyId", "model") DO UPDATE SET
            "requests" = "UsageDaily"."requests" + excluded."requests",
            "errors" = "UsageDaily"."errors" + excluded."errors",
            "inputTokens" = "UsageDaily"."inputTokens" + excluded."inputTokens",
            "outputTokens" = "UsageDaily"."outputTokens" + excluded."outputTokens",
            "cacheReadTokens" = "UsageDaily"."cacheReadTokens" + excluded."cacheReadTokens",
            "cacheWriteTokens" = "UsageDaily"."cacheWriteTokens" + excluded."cacheWriteTokens",
            "costMicros" = "UsageDaily"."costMicros" + excluded."costMicros",
            "err401" = "UsageDaily"."err401" + excluded."err401",
            "err403" = "UsageDaily"."err403" + excluded."err403",
            "err429" = "UsageDaily"."err429" + excluded."err429",
            "err5xx" = "UsageDaily"."err5xx" + excluded."err5xx",
            "errOther" = "UsageDaily"."errOther" + excluded."errOther",
            "latencyMsSum" = "UsageDaily"."latencyMsSum" + excluded."latencyMsSum"`;
        await yieldToEventLoop();
      }
      for (const l of latency.values()) {
        await tx.$executeRaw`INSERT INTO "UsageLatencyDaily" ("day", "projectId", "orgId", "bucket", "count")
          VALUES (${l.day}, ${l.projectId}, ${l.orgId}, ${l.bucket}, ${l.count})
          ON CONFLICT ("day", "projectId", "bucket") DO UPDATE SET "count" = "UsageLatencyDaily"."count" + excluded."count"`;
        await yieldToEventLoop();
      }
      for (const b of budgetSpend.values()) {
        // RETURNING (SQLite ≥ 3.35 and PostgreSQL) tells the alert trigger which thresholds this flush crossed.
        const [row] = await tx.$queryRaw<{ spentMicros: bigint | number }[]>`UPDATE "Budget" SET "spentMicros" = "spentMicros" + ${b.cost}
          WHERE "limitId" = ${b.limitId} AND "period" = ${b.period} RETURNING "spentMicros"`;
        if (row) changes.push({ limitId: b.limitId, period: b.period, beforeMicros: BigInt(row.spentMicros) - b.cost, afterMicros: BigInt(row.spentMicros) });
      }
      if (this.budgets) await this.budgets.writeSpend(tx, spend, now);
      for (const [id, at] of touch) {
        await tx.apiKey.updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] }, data: { lastUsedAt: at } });
      }
    });
    for (const [id, at] of touch) this.lastUsedWritten.set(id, at.getTime());
    if (changes.length === 0) return;
    for (const listener of this.spendListeners) {
      try {
        listener(changes);
      } catch (error) {
        this.logger.warn({ err: error }, 'spend listener failed');
      }
    }
  }

  /** Deletes raw events older than `before` (rollups stay). */
  async prune(before: Date): Promise<number> {
    const { count } = await this.db.usageEvent.deleteMany({ where: { createdAt: { lt: before } } });
    return count;
  }
}

export interface UsageTotals {
  requests: number;
  errors: number;
  inputTokens: bigint;
  outputTokens: bigint;
  cacheReadTokens: bigint;
  cacheWriteTokens: bigint;
  costMicros: bigint;
}

/** Totals of a project in a period, read from the daily rollup. */
export async function projectUsage(db: Db, projectId: string, period: Period): Promise<UsageTotals> {
  const { from, to } = periodDayRange(period);
  const agg = await db.usageDaily.aggregate({
    where: { projectId, day: { gte: from, lt: to } },
    _sum: { requests: true, errors: true, inputTokens: true, outputTokens: true, cacheReadTokens: true, cacheWriteTokens: true, costMicros: true },
  });
  const s = agg._sum;
  return {
    requests: s.requests ?? 0,
    errors: s.errors ?? 0,
    inputTokens: s.inputTokens ?? 0n,
    outputTokens: s.outputTokens ?? 0n,
    cacheReadTokens: s.cacheReadTokens ?? 0n,
    cacheWriteTokens: s.cacheWriteTokens ?? 0n,
    costMicros: s.costMicros ?? 0n,
  };
}
