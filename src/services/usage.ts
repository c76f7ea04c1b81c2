import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { TokenUsage } from '../domain/pricing.js';
import { isModelId } from '../domain/models.js';
import { PeriodCache, periodDayRange, type Period } from '../domain/periods.js';
import { newId } from '../domain/random.js';
import { errorBucket, latencyBucket } from '../domain/report.js';
import { ensureBudgetRow, type BudgetLeases } from './budget.js';
import { orgLimitId, projectLimitId } from './limits.js';
import { writeFlush } from './usage-sql.js';

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
  model: string;
  day: string;
  requests: number;
  errors: number;
  input: number;
  output: number;
  read: number;
  write: number;
  /** Sums as plain numbers while aggregating (exact far beyond a flush's totals); BigInt once per row. */
  cost: number;
  split: [number, number, number, number, number];
  latency: number;
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
/** Distinct models missing from the price table rolled up by name per org and day (per process); the rest is "other". */
export const UNKNOWN_MODELS_PER_DAY = 20;
/** Readiness: the queue above this fraction of its bound, or flushes failing this long, is not ready. */
const HIGH_WATER = 0.5;
const FAILING_MS = 30_000;
const INT_MAX = 2 ** 31 - 1;

export interface UsageWriterOptions {
  /** True for models the price table knows: rolled up by name without a cap. */
  knownModel?: (model: string) => boolean;
  /** Bound of the queue (admission refuses new requests at it); readiness uses it. */
  maxQueue?: number;
  now?: () => number;
}

/** Errors after which the same rows may well succeed: connection, lock, serialization, resources. */
function transient(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  if (/^(08|40|53|55|57|58)[0-9A-Z]{3}$/.test(code)) return true;
  if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL)/.test(code)) return true;
  return /^E[A-Z]+$/.test(code) && code !== 'ERR'; // ECONNREFUSED, ETIMEDOUT, ...
}

/** A copy the database cannot refuse: plain model id, known error class, counts in the INT column range. */
function cleaned(r: UsageRecord): UsageRecord {
  const int = (n: number) => (Number.isFinite(n) ? Math.min(INT_MAX, Math.max(0, Math.round(n))) : 0);
  return {
    ...r,
    model: isModelId(r.model) ? r.model : 'invalid',
    errorClass: r.errorClass === null || /^[a-z0-9_]{1,40}$/.test(r.errorClass) ? r.errorClass : 'other',
    status: int(r.status),
    usage: { ...r.usage, input: int(r.usage.input), output: int(r.usage.output), cacheRead: int(r.usage.cacheRead), cacheWrite: int(r.usage.cacheWrite) },
    costMicros: Number.isSafeInteger(r.costMicros) && r.costMicros >= 0 ? r.costMicros : 0,
    latencyMs: int(r.latencyMs),
    overheadUs: int(r.overheadUs),
  };
}

const NO_SPEND = { owner: '', ledgers: [] };

/**
 * Buffers usage events in memory and writes them in batches: raw events, the daily rollup, budget
 * spend and consumed leases in one transaction, so a crash never counts a request twice or half.
 */
export class UsageWriter {
  private queue: UsageRecord[] = [];
  private running: Promise<void> | null = null;
  /** Events taken by the flush that is running (still waiting to be written, as far as the bound goes). */
  private inFlight = 0;
  /** Since when flushes have been failing (null = the last one succeeded). */
  private failingSince: number | null = null;
  /** Events the database refused on their own (see quarantine). */
  deadLetters = 0;
  /** day → org → models outside the price table rolled up by name that day. */
  private readonly unknownModels = new Map<string, Map<string, Set<string>>>();
  private readonly nowMs: () => number;
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
    private readonly options: UsageWriterOptions = {},
  ) {
    this.days = new PeriodCache('day', tz);
    this.nowMs = options.now ?? Date.now;
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
    return this.queue.length + this.inFlight;
  }

  /** Null when healthy, else why this process should not take traffic (for /readyz). */
  health(): string | null {
    const max = this.options.maxQueue;
    if (max && this.depth > max * HIGH_WATER) return `usage backlog: ${this.depth} events waiting to be written`;
    if (this.failingSince !== null && this.nowMs() - this.failingSince >= FAILING_MS) {
      return `usage flush failing for ${Math.round((this.nowMs() - this.failingSince) / 1000)} s`;
    }
    return null;
  }

  /** Writes everything queued so far; concurrent callers share the running flush, then run again. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.queue.length === 0 && !this.hasSpend()) return;
    this.running = this.write().finally(() => {
      this.running = null;
      this.inFlight = 0;
    });
    return this.running;
  }

  private hasSpend() {
    return this.budgets?.all.some((l) => l.settled > 0) ?? false;
  }

  private async write() {
    const batch = this.queue;
    this.queue = [];
    this.inFlight = batch.length;
    const spend = this.budgets?.takeSpend() ?? { owner: '', ledgers: [] };
    let failure: unknown;
    try {
      await this.writeBatch(batch, spend);
      this.budgets?.commitSpend(spend);
      this.failingSince = null;
      return;
    } catch (error) {
      failure = error;
      this.budgets?.abortSpend(spend);
      this.failingSince ??= this.nowMs();
      if (batch.length === 0 || transient(error) || !(await this.databaseAnswers())) return this.requeue([batch], error);
      this.logger.warn({ err: error, events: batch.length }, 'usage flush refused by the database; isolating the bad events');
    }
    // One bad row must not hold back the others. First the head row alone (or its cleaned copy):
    // if even that is refused, the fault is not in the rows (a missing table…) and nothing is dropped.
    const [first, ...rest] = batch;
    try {
      if (rest.length === 0) throw failure;
      await this.writeBatch([first!], NO_SPEND);
    } catch (refused) {
      if (transient(refused)) return this.requeue([batch], refused);
      let isolated: boolean;
      try {
        isolated = await this.quarantine(first!, refused, false);
      } catch (again) {
        return this.requeue([batch], again);
      }
      if (!isolated) return this.requeue([batch], refused);
    }
    // The database takes writes: halve refused parts down to single rows, which are quarantined.
    const work: UsageRecord[][] = rest.length > 0 ? [rest] : [];
    while (work.length > 0) {
      const part = work.shift()!;
      try {
        await this.writeBatch(part, NO_SPEND);
        continue;
      } catch (refused) {
        if (transient(refused) || !(await this.databaseAnswers())) return this.requeue([part, ...work], refused);
        if (part.length > 1) {
          const mid = part.length >> 1;
          work.unshift(part.slice(0, mid), part.slice(mid));
          continue;
        }
        try {
          await this.quarantine(part[0]!, refused, true);
        } catch (again) {
          return this.requeue([part, ...work], again);
        }
      }
    }
    this.failingSince = null;
  }

  private requeue(parts: UsageRecord[][], error: unknown): never {
    const rest = parts.flat();
    this.inFlight = 0;
    this.queue = rest.concat(this.queue);
    this.logger.error({ err: error, events: rest.length }, 'usage flush failed; will retry');
    throw error;
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.db.$queryRawUnsafe('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * An event the database refuses on its own: its cleaned copy (model "invalid", counts clamped) is
   * written so its cost still counts, and the original is kept as a dead letter for an operator.
   * False (nothing done) when the copy is refused too and no write has shown the database takes any.
   */
  private async quarantine(r: UsageRecord, error: unknown, writable: boolean): Promise<boolean> {
    const copy = cleaned(r);
    let replaced = false;
    try {
      await this.writeBatch([copy], NO_SPEND);
      replaced = true;
    } catch (again) {
      if (transient(again)) throw again;
      if (!writable) return false;
    }
    this.deadLetters += 1;
    const e = error as { code?: unknown; message?: unknown };
    const reason = `${String(e?.code ?? '')} ${String(e?.message ?? error)}`.replace(/[\u0000-\u001f]/g, ' ').trim().slice(0, 500);
    // JSON text escapes control characters (a raw NUL is what PostgreSQL refused in the first place).
    const event = JSON.stringify({ ...r, at: r.at.toISOString() });
    this.logger.error(
      { keyId: r.keyId, projectId: r.projectId, model: JSON.stringify(r.model).slice(0, 120), costMicros: r.costMicros, replaced, reason },
      'usage event refused by the database: quarantined, the rest of the batch was written',
    );
    await this.db.usageDeadLetter.create({
      data: {
        id: newId('udl'), orgId: r.orgId, projectId: r.projectId, keyId: r.keyId, costMicros: BigInt(copy.costMicros),
        replaced, error: reason, event, createdAt: new Date(this.nowMs()),
      },
    }).catch((failed: unknown) => this.logger.error({ err: failed, keyId: r.keyId }, 'could not store the quarantined usage event'));
    return true;
  }

  /** The model name a rollup row is kept under: unknown models are capped per org and day. */
  private rollupModel(r: UsageRecord, day: string): string {
    if (!this.options.knownModel || this.options.knownModel(r.model)) return r.model;
    let orgs = this.unknownModels.get(day);
    if (!orgs) {
      // Only today (and a late yesterday) matter.
      for (const d of [...this.unknownModels.keys()].sort().slice(0, -1)) this.unknownModels.delete(d);
      this.unknownModels.set(day, (orgs = new Map()));
    }
    let seen = orgs.get(r.orgId);
    if (!seen) orgs.set(r.orgId, (seen = new Set()));
    if (seen.has(r.model)) return r.model;
    if (seen.size >= UNKNOWN_MODELS_PER_DAY) return 'other';
    seen.add(r.model);
    return r.model;
  }

  private async writeBatch(batch: UsageRecord[], spend: ReturnType<BudgetLeases['takeSpend']>) {
    const now = new Date();
    const daily = new Map<string, DailyAcc>();
    // Latency histogram per (day, project): p95 for /usage and the digest without raw events.
    const latency = new Map<string, { day: string; orgId: string; projectId: string; bucket: number; count: number }>();
    const budgetSpend = new Map<string, { limitId: string; period: string; cost: number }>();
    const lastUsed = new Map<string, Date>();
    for (const r of batch) {
      const day = this.days.at(r.at).key;
      const model = this.rollupModel(r, day);
      const k = `${day}|${r.keyId}|${model}`;
      let d = daily.get(k);
      if (!d) daily.set(k, (d = { r, model, day, requests: 0, errors: 0, input: 0, output: 0, read: 0, write: 0, cost: 0, split: [0, 0, 0, 0, 0], latency: 0 }));
      d.requests += 1;
      if (r.errorClass) d.errors += 1;
      const bucket = errorBucket(r.status) ?? (r.errorClass ? 'other' : null);
      if (bucket) d.split[ERROR_COLUMNS.indexOf(bucket)]! += 1;
      const ms = Math.max(0, Math.round(r.latencyMs));
      d.latency += ms;
      const lb = latencyBucket(ms);
      const lk = `${day}|${r.projectId}|${lb}`;
      const l = latency.get(lk);
      if (l) l.count += 1;
      else latency.set(lk, { day, orgId: r.orgId, projectId: r.projectId, bucket: lb, count: 1 });
      d.input += r.usage.input;
      d.output += r.usage.output;
      d.read += r.usage.cacheRead;
      d.write += r.usage.cacheWrite;
      d.cost += r.costMicros;
      if (r.costMicros > 0) {
        for (const limitId of [projectLimitId(r.projectId), orgLimitId(r.orgId)]) {
          const bk = `${limitId}|${r.period}`;
          const b = budgetSpend.get(bk);
          if (b) b.cost += r.costMicros;
          else budgetSpend.set(bk, { limitId, period: r.period, cost: r.costMicros });
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
    const spent = await writeFlush(this.db, {
      events: batch.map((r) => ({
        id: this.nextEventId(), orgId: r.orgId, projectId: r.projectId, keyId: r.keyId, model: r.model, status: r.status,
        errorClass: r.errorClass, stream: r.stream, input: r.usage.input, output: r.usage.output, cacheRead: r.usage.cacheRead,
        cacheWrite: r.usage.cacheWrite, cost: r.costMicros, latencyMs: Math.round(r.latencyMs),
        overheadUs: Math.round(r.overheadUs), at: r.at,
      })),
      daily: [...daily.values()].map((d) => ({
        day: d.day, keyId: d.r.keyId, model: d.model, orgId: d.r.orgId, projectId: d.r.projectId, requests: d.requests,
        errors: d.errors, input: BigInt(d.input), output: BigInt(d.output), read: BigInt(d.read), write: BigInt(d.write),
        cost: BigInt(d.cost), split: d.split, latency: BigInt(d.latency),
      })),
      latency: [...latency.values()],
      spend: [...budgetSpend.values()].map((b) => ({ ...b, cost: BigInt(b.cost) })),
      leases: this.budgets?.spendOps(spend) ?? [],
      instanceId: spend.owner,
      touch,
      now,
    });
    const changes: SpendChange[] = spent.map((b) => ({ limitId: b.limitId, period: b.period, beforeMicros: b.afterMicros - b.cost, afterMicros: b.afterMicros }));
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
