import { beforeAll, describe, expect, it } from 'vitest';
import { runAlerts } from '../../src/jobs/alerts.js';
import { AlertTrigger } from '../../src/jobs/alert-trigger.js';
import { createLogger } from '../../src/logger.js';
import { projectLimitId } from '../../src/services/limits.js';
import { UsageWriter, type UsageRecord } from '../../src/services/usage.js';
import { jobWorld, MODEL, seedProject, TZ } from './world.js';

const w = jobWorld();
const USD = 1_000_000;

describe('alerts right after a usage flush', () => {
  let web: Awaited<ReturnType<typeof seedProject>>;
  let writer: UsageWriter;
  let trigger: AlertTrigger;
  let deps: ReturnType<typeof w.deps>;
  const record = (costMicros: number): UsageRecord => ({
    orgId: w.orgId, projectId: web.project.id, keyId: web.key.id, model: MODEL, status: 200, errorClass: null, stream: false,
    usage: { input: 100, output: 50, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, webSearches: 0 }, costMicros, latencyMs: 300, overheadUs: 50, at: w.clock, period: '2026-11',
  });
  const alertTexts = () => deps.notifier.sent.filter((s) => s.kind === 'post' && s.to === 'CALERTS').map((s) => s.message!.text);

  beforeAll(async () => {
    web = await seedProject(w, 'web');
    await w.s.limits.set(web.admin, 'web', ['hard=10', 'thresholds=50,100']);
    deps = w.deps();
    trigger = new AlertTrigger(deps, () => w.clock);
    writer = new UsageWriter(w.db, TZ, createLogger('silent'), null);
    writer.onSpend(trigger.onSpend);
  });

  it('a flush that crosses a threshold alerts without the minute job; one that crosses none evaluates nothing', async () => {
    writer.push(record(6 * USD));
    await writer.flush();
    await trigger.idle();
    expect(alertTexts()).toEqual(['Project web reached 50% of its hard limit: $6.00 of $10.00 (2026-11).']);
    expect(trigger.evaluations).toBe(1);

    writer.push(record(1 * USD)); // $7: no threshold crossed
    await writer.flush();
    await trigger.idle();
    expect(trigger.evaluations).toBe(1);

    writer.push(record(3 * USD)); // $10: 100%
    await writer.flush();
    await trigger.idle();
    expect(alertTexts()).toEqual([
      'Project web reached 50% of its hard limit: $6.00 of $10.00 (2026-11).',
      'Project web reached 100% of its hard limit: $10.00 of $10.00 (2026-11).',
    ]);
    // The minute job finds nothing left to send: the outbox key made each alert once.
    const later = w.deps();
    await runAlerts(new Date(w.clock.getTime() + 60_000), later);
    expect(later.notifier.sent).toEqual([]);
    expect(await w.db.alert.count({ where: { limitId: projectLimitId(web.project.id) } })).toBe(2);
  });

  it('coalesces flushes that arrive while an evaluation runs, and never alerts twice', async () => {
    w.set('2026-12-03T10:00:00Z'); // a new month: thresholds start over
    const limitId = projectLimitId(web.project.id);
    await w.spend(web.project.id, 9n * BigInt(USD));
    const before = trigger.evaluations;
    const crossing = { limitId, period: '2026-12', beforeMicros: 4n * BigInt(USD), afterMicros: 9n * BigInt(USD) };
    trigger.onSpend([crossing]);
    trigger.onSpend([crossing]);
    trigger.onSpend([crossing]);
    await trigger.idle();
    expect(trigger.evaluations - before).toBe(2); // the first call, then one pass for the two queued meanwhile
    expect(alertTexts().filter((t) => t.includes('2026-12'))).toEqual(['Project web reached 50% of its hard limit: $9.00 of $10.00 (2026-12).']);
  });
});
