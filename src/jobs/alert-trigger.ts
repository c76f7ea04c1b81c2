/**
 * Alerts right after usage is flushed: the UsageWriter reports each budget's spend before and after
 * a committed flush; when that crosses one of the limit's thresholds (or the soft limit), the alert
 * evaluation runs for just those limits, in the background. Flushes arriving meanwhile are
 * coalesced into the next pass. Exactly once still comes from the outbox's unique
 * (limit, period, event) key; the every-minute alerts job remains the backstop.
 */
import { newlyCrossed, type LimitConfig } from '../domain/alerts.js';
import { thresholdsOf } from '../domain/limit-settings.js';
import type { SpendChange } from '../services/usage.js';
import { deliverDue, evaluate } from './alerts.js';
import { dbOf, logOf, type JobDeps } from './context.js';

/** Limit settings are re-read at most this often (a changed threshold applies within seconds). */
const CONFIG_TTL_MS = 5_000;

export class AlertTrigger {
  private queue: SpendChange[] = [];
  private running: Promise<void> | null = null;
  private configs: { at: number; byId: Map<string, LimitConfig> } | null = null;
  private stopped = false;
  /** Evaluations started (for tests and logs). */
  evaluations = 0;

  constructor(
    private readonly deps: JobDeps,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** The UsageWriter listener: queues and returns at once. */
  readonly onSpend = (changes: SpendChange[]): void => {
    if (this.stopped) return;
    this.queue.push(...changes);
    if (!this.running) this.running = this.drain().finally(() => (this.running = null));
  };

  /** Resolves when queued changes are handled. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const batch = this.queue;
      this.queue = [];
      try {
        const crossed = await this.crossed(batch);
        if (crossed.length === 0) continue;
        this.evaluations += 1;
        const now = this.clock();
        const lines = await evaluate(now, this.deps, crossed);
        // Without Slack, record only: the alerts job of a process with Slack delivers.
        if (this.deps.notifier) lines.push(...(await deliverDue(now, this.deps)));
        if (lines.length) logOf(this.deps).info({ lines: lines.slice(0, 20) }, 'alerts after usage flush');
      } catch (error) {
        logOf(this.deps).warn({ err: error }, 'alerts after usage flush failed; the alerts job will retry');
      }
    }
  }

  /** Limit ids whose threshold or soft limit the changes crossed. */
  private async crossed(changes: SpendChange[]): Promise<string[]> {
    const byId = await this.limitConfigs();
    const out = new Set<string>();
    for (const c of changes) {
      const config = byId.get(c.limitId);
      if (config && newlyCrossed(config, c.beforeMicros, c.afterMicros).length) out.add(c.limitId);
    }
    return [...out];
  }

  private async limitConfigs(): Promise<Map<string, LimitConfig>> {
    const at = this.clock().getTime();
    if (this.configs && at - this.configs.at < CONFIG_TTL_MS) return this.configs.byId;
    const rows = await dbOf(this.deps).limit.findMany({
      where: { OR: [{ hardMicros: { not: null } }, { softMicros: { not: null } }] },
      select: { id: true, hardMicros: true, softMicros: true, thresholds: true },
    });
    const byId = new Map(rows.map((r) => [r.id, { hardMicros: r.hardMicros, softMicros: r.softMicros, thresholds: thresholdsOf(r.thresholds) }]));
    this.configs = { at, byId };
    return byId;
  }
}
