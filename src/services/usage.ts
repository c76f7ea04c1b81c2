import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { TokenUsage } from '../domain/pricing.js';
import { dayKey, periodDayRange, type Period } from '../domain/periods.js';
import { newId } from '../domain/random.js';
import { ensureBudgetRow, type BudgetLeases } from './budget.js';
import { orgLimitId, projectLimitId } from './limits.js';

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

  constructor(
    private readonly db: Db,
    private readonly tz: string,
    private readonly logger: Logger,
    private readonly budgets: BudgetLeases | null,
  ) {}

  push(r: UsageRecord) {
    this.queue.push(r);
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
    const daily = new Map<string, { r: UsageRecord; day: string; requests: number; errors: number; input: number; output: number; read: number; write: number; cost: bigint }>();
    const budgetSpend = new Map<string, { limitId: string; period: string; cost: bigint }>();
    const lastUsed = new Map<string, Date>();
    for (const r of batch) {
      const day = dayKey(r.at, this.tz);
      const k = `${day}|${r.keyId}|${r.model}`;
      let d = daily.get(k);
      if (!d) daily.set(k, (d = { r, day, requests: 0, errors: 0, input: 0, output: 0, read: 0, write: 0, cost: 0n }));
      d.requests += 1;
      if (r.errorClass) d.errors += 1;
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

    await this.db.$transaction(async (tx) => {
      if (batch.length) {
        await tx.usageEvent.createMany({
          data: batch.map((r) => ({
            id: newId('use'), orgId: r.orgId, projectId: r.projectId, keyId: r.keyId, model: r.model,
            status: r.status, errorClass: r.errorClass, stream: r.stream,
            inputTokens: r.usage.input, outputTokens: r.usage.output,
            cacheReadTokens: r.usage.cacheRead, cacheWriteTokens: r.usage.cacheWrite,
            costMicros: BigInt(r.costMicros), latencyMs: Math.round(r.latencyMs), overheadUs: Math.round(r.overheadUs),
            createdAt: r.at,
          })),
        });
      }
      // INSERT .. ON CONFLICT .. DO UPDATE is the same SQL on SQLite and PostgreSQL and is race-free.
      for (const d of daily.values()) {
        await tx.$executeRaw`INSERT INTO "UsageDaily" ("day", "keyId", "model", "orgId", "projectId", "requests", "errors",
            "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "costMicros")
          VALUES (${d.day}, ${d.r.keyId}, ${d.r.model}, ${d.r.orgId}, ${d.r.projectId}, ${d.requests}, ${d.errors},
            ${BigInt(d.input)}, ${BigInt(d.output)}, ${BigInt(d.read)}, ${BigInt(d.write)}, ${d.cost})
          ON CONFLICT ("day", "keyId", "model") DO UPDATE SET
            "requests" = "UsageDaily"."requests" + excluded."requests",
            "errors" = "UsageDaily"."errors" + excluded."errors",
            "inputTokens" = "UsageDaily"."inputTokens" + excluded."inputTokens",
            "outputTokens" = "UsageDaily"."outputTokens" + excluded."outputTokens",
            "cacheReadTokens" = "UsageDaily"."cacheReadTokens" + excluded."cacheReadTokens",
            "cacheWriteTokens" = "UsageDaily"."cacheWriteTokens" + excluded."cacheWriteTokens",
            "costMicros" = "UsageDaily"."costMicros" + excluded."costMicros"`;
      }
      for (const b of budgetSpend.values()) {
        await tx.$executeRaw`UPDATE "Budget" SET "spentMicros" = "spentMicros" + ${b.cost} WHERE "limitId" = ${b.limitId} AND "period" = ${b.period}`;
      }
      if (this.budgets) await this.budgets.writeSpend(tx, spend, now);
      for (const [id, at] of touch) {
        await tx.apiKey.updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] }, data: { lastUsedAt: at } });
      }
    });
    for (const [id, at] of touch) this.lastUsedWritten.set(id, at.getTime());
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
