/**
 * Weekly digest (Mondays 09:00 in the org time zone by default): last week per project, grouped by
 * the channel the projects' alerts go to, so a shared channel gets one message. The chart PNG is
 * uploaded into the digest's thread. Runs once per slot (JobRun claim).
 */
import { periodOf, previousPeriod, type Period } from '../domain/calendar.js';
import { buildDigest, type DigestProjectInput } from '../domain/digest.js';
import { projectLimitId } from '../services/limits.js';
import { breakdown, dailyPoints, dueKeys, limitStatus, usageTotals } from '../services/reports.js';
import { digestMessage } from '../slack/views/digest.js';
import { periodLabel } from '../slack/views/usage.js';
import { dbOf, logOf, tzOf, type JobDeps, type JobResult } from './context.js';
import { channelFor } from './recipients.js';

/** The full week before the one containing `now`. */
export const digestWeek = (now: Date, tz: string): Period => previousPeriod(periodOf('week', now, tz));

export async function runDigest(now: Date, deps: JobDeps): Promise<JobResult> {
  if (!deps.notifier) {
    logOf(deps).debug('digest skipped: no Slack bot token');
    return { lines: [] };
  }
  const db = dbOf(deps);
  const tz = tzOf(deps);
  const week = digestWeek(now, tz);
  const before = previousPeriod(week);
  const lines: string[] = [];
  for (const org of await db.org.findMany({ select: { id: true } })) {
    const projects = await db.project.findMany({ where: { orgId: org.id, archivedAt: null }, orderBy: { name: 'asc' } });
    const byChannel = new Map<string, typeof projects>();
    for (const p of projects) {
      const channel = await channelFor(deps, org.id, p.id);
      if (!channel) {
        lines.push(`no channel for ${p.name}: digest skipped (set one with /project channel)`);
        continue;
      }
      byChannel.set(channel, [...(byChannel.get(channel) ?? []), p]);
    }
    for (const [channel, group] of byChannel) {
      const ids = group.map((p) => p.id);
      const inputs: DigestProjectInput[] = await Promise.all(
        group.map(async (p) => ({
          id: p.id,
          name: p.name,
          current: await usageTotals(db, { projectIds: [p.id] }, week),
          previous: await usageTotals(db, { projectIds: [p.id] }, before),
          keys: await breakdown(db, { projectIds: [p.id] }, week, 'keyId'),
          limit: await limitStatus(db, projectLimitId(p.id), now, tz),
        })),
      );
      const digest = buildDigest({ week, projects: inputs, dueKeys: await dueKeys(db, { orgId: org.id, projectIds: ids }, now, deps.rotation) });
      const message = digestMessage(digest);
      try {
        const posted = await deps.notifier.post(channel, message);
        lines.push(`${deps.dryRun ? 'would post' : 'posted'} digest ${week.key} to <#${channel}> (${group.length} project${group.length === 1 ? '' : 's'})`);
        if (!digest.empty) {
          const png = await chartPng(deps, week, await dailyPoints(db, { projectIds: ids }, week));
          await deps.notifier.upload({ channel, threadTs: posted.ts, filename: `keyward-usage-${week.key}.png`, title: `Daily cost per project, ${periodLabel(week)}`, content: png });
        }
      } catch (error) {
        // One channel failing must not stop the others; the admins learn it from the logs and /limits.
        logOf(deps).warn({ channel, error: String(error) }, 'digest could not be posted');
        lines.push(`digest to <#${channel}> failed: ${String(error)}`);
      }
    }
  }
  return { lines };
}

/** Renders the chart; the renderer (resvg, fonts) is loaded only when a chart is drawn. */
export async function chartPng(_deps: JobDeps | null, period: Period, points: Awaited<ReturnType<typeof dailyPoints>>, metric: 'cost' | 'tokens' = 'cost'): Promise<Buffer> {
  const [{ chartFromDaily }, { renderUsageChart }] = await Promise.all([import('../charts/data.js'), import('../charts/png.js')]);
  return renderUsageChart(chartFromDaily({ title: `Daily ${metric} per project`, subtitle: `${periodLabel(period)} (${period.timeZone})`, period, metric, points }));
}
