/**
 * Weekly digest (Mondays 09:00 in KEYWARD_TIMEZONE by default; each org may set its own cron or
 * turn it off with `/keyward settings digest=…`): last week per project, grouped by the channel
 * the digest goes to, so a shared channel gets one message. The chart PNG is uploaded into the
 * digest's thread. The scheduler calls `runDueDigests` every minute; each org's slot is claimed
 * as `(digest:<org>, slot)`, so it runs once across replicas and a missed one once after downtime.
 */
import { chartPng } from '../charts/usage.js';
import { periodLabel, periodOf, previousPeriod, type Period } from '../domain/calendar.js';
import { buildDigest, type DigestProjectInput } from '../domain/digest.js';
import { claimExpired, dueSlot, type JobDefinition } from '../domain/jobs.js';
import { digestChannelOf, digestCronOf, digestJobName } from '../domain/settings.js';
import { projectLimitId } from '../services/limits.js';
import { breakdown, dailyPoints, dueKeys, limitStatus, usageTotals } from '../services/reports.js';
import { digestMessage } from '../slack/views/digest.js';
import { dbOf, logOf, tzOf, type JobDeps, type JobResult } from './context.js';
import { claimSlot, finishSlot } from './runs.js';

type OrgRow = Awaited<ReturnType<ReturnType<typeof dbOf>['org']['findFirstOrThrow']>>;

/** The full week before the one containing `now`. */
export const digestWeek = (now: Date, tz: string): Period => previousPeriod(periodOf('week', now, tz));

/** `/keyward run digest`: every org whose digest is not off, now, outside the slot claims. */
export async function runDigest(now: Date, deps: JobDeps): Promise<JobResult> {
  if (!deps.notifier) {
    logOf(deps).debug('digest skipped: no Slack bot token');
    return { lines: [] };
  }
  const lines: string[] = [];
  for (const org of await dbOf(deps).org.findMany({ orderBy: { id: 'asc' } })) {
    if (!digestCronOf(org.digestCron, deps.digestCron)) lines.push(`digest of ${org.name ?? org.id} is off (/keyward settings digest=…)`);
    else lines.push(...(await digestForOrg(now, deps, org)));
  }
  return { lines };
}

/** Scheduled every minute: runs each org's due digest slot if this process claims it. */
export async function runDueDigests(now: Date, deps: JobDeps): Promise<JobResult> {
  if (!deps.notifier) return { lines: [] }; // unclaimed: caught up once Slack is configured
  const db = dbOf(deps);
  const lines: string[] = [];
  for (const org of await db.org.findMany({ orderBy: { id: 'asc' } })) {
    const cron = digestCronOf(org.digestCron, deps.digestCron);
    if (!cron) continue;
    const def: JobDefinition = { name: digestJobName(org.id), cron, timeoutMs: 30 * 60_000, catchUp: true };
    const last = await db.jobRun.findFirst({ where: { job: def.name }, orderBy: { slot: 'desc' } });
    // Slots before the org existed (or already claimed) are not due; a dead claim is taken over.
    const floor = last && last.slot > org.createdAt ? last.slot : org.createdAt;
    let slot = dueSlot(def, now, tzOf(deps), floor);
    if (!slot && last?.status === 'running' && claimExpired(def, last.claimedAt, now)) slot = last.slot;
    if (!slot || !(await claimSlot(db, def, slot, deps.instanceId, now))) continue;
    try {
      const done = await digestForOrg(now, deps, org);
      await finishSlot(db, def.name, slot, deps.instanceId, now, { result: done.slice(0, 50) });
      lines.push(...done);
    } catch (error) {
      logOf(deps).error({ err: error, orgId: org.id }, 'digest failed');
      await finishSlot(db, def.name, slot, deps.instanceId, now, { error: String(error) }).catch(() => {});
      lines.push(`digest of ${org.id} failed: ${String(error)}`);
    }
  }
  return { lines };
}

async function digestForOrg(now: Date, deps: JobDeps, org: OrgRow): Promise<string[]> {
  const notifier = deps.notifier!;
  const db = dbOf(deps);
  const tz = tzOf(deps);
  const week = digestWeek(now, tz);
  const before = previousPeriod(week);
  const lines: string[] = [];
  const projects = await db.project.findMany({ where: { orgId: org.id, archivedAt: null }, orderBy: { name: 'asc' } });
  const byChannel = new Map<string, typeof projects>();
  for (const p of projects) {
    const channel = digestChannelOf(org, p);
    if (!channel) {
      lines.push(`no channel for ${p.name}: digest skipped (set one with /project channel or /keyward settings)`);
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
      const posted = await notifier.post(channel, message);
      lines.push(`${deps.dryRun ? 'would post' : 'posted'} digest ${week.key} to <#${channel}> (${group.length} project${group.length === 1 ? '' : 's'})`);
      if (!digest.empty) {
        const png = await chartPng(week, await dailyPoints(db, { projectIds: ids }, week));
        await notifier.upload({ channel, threadTs: posted.ts, filename: `keyward-usage-${week.key}.png`, title: `Daily cost per project, ${periodLabel(week)}`, content: png });
      }
    } catch (error) {
      // One channel failing must not stop the others; the admins learn it from the logs and /limits.
      logOf(deps).warn({ channel, error: String(error) }, 'digest could not be posted');
      lines.push(`digest to <#${channel}> failed: ${String(error)}`);
    }
  }
  return lines;
}
