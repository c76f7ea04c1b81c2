/**
 * Threshold alerts (flows.md §4). Every run: for each limit with a hard or soft budget, the events
 * its month-to-date spend has reached are inserted into the outbox under a unique
 * (limit, period, event) key; then unsent rows are delivered to the channel, admin DMs and the
 * signed webhook, each destination with its own status, attempts and backoff. A crash between
 * Slack's answer and the status write can repeat one message; nothing is ever lost.
 */
import { buildAlertPayload, eventKey, reachedEvents, type AlertPayload } from '../domain/alerts.js';
import { notifyOf, thresholdsOf } from '../domain/limit-settings.js';
import { monthPeriod } from '../domain/periods.js';
import { classifySlackError, isRetryableStatus, retryDelay, signWebhook, SLACK_RETRY, WEBHOOK_RETRY } from '../domain/webhooks.js';
import { maskUrl } from '../services/limits.js';
import { postWebhook, WebhookBlocked } from './webhook-http.js';
import { NotifyError } from '../services/notifier.js';
import { isUniqueViolation } from '../db/errors.js';
import { breakdown } from '../services/reports.js';
import { limitAlertMessage } from '../slack/views/alerts.js';
import { dbOf, logOf, tzOf, type JobDeps, type JobResult } from './context.js';
import { adminsOf, channelFor, problemSolved, surfaceProblem } from './recipients.js';

type AlertRow = Awaited<ReturnType<ReturnType<typeof dbOf>['alert']['findFirstOrThrow']>>;
type Status = 'pending' | 'sent' | 'skipped' | 'failed';
const DONE = new Set<string>(['sent', 'skipped', 'failed']);
/** A delivering process holds a row this long; a crashed one's rows are picked up afterwards. */
const LOCK_MS = 2 * 60_000;

export async function runAlerts(now: Date, deps: JobDeps): Promise<JobResult> {
  const lines = await evaluate(now, deps);
  lines.push(...(await deliverDue(now, deps)));
  return { lines };
}

/** Inserts one outbox row per newly reached event (in a dry run: lists them); `onlyLimitIds` narrows it (alert trigger). */
export async function evaluate(now: Date, deps: JobDeps, onlyLimitIds?: string[]): Promise<string[]> {
  const db = dbOf(deps);
  const period = monthPeriod(now, tzOf(deps));
  const only = onlyLimitIds ? { id: { in: onlyLimitIds } } : {};
  const limits = await db.limit.findMany({ where: { ...only, OR: [{ hardMicros: { not: null } }, { softMicros: { not: null } }] } });
  if (limits.length === 0) return [];
  const ids = limits.map((l) => l.id);
  const budgets = await db.budget.findMany({ where: { period: period.key, limitId: { in: ids } } });
  const existing = await db.alert.findMany({ where: { period: period.key, limitId: { in: ids } }, select: { limitId: true, eventKey: true } });
  const spent = new Map(budgets.map((b) => [b.limitId, b.spentMicros]));
  const have = new Set(existing.map((a) => `${a.limitId}|${a.eventKey}`));
  const lines: string[] = [];
  for (const limit of limits) {
    const config = { hardMicros: limit.hardMicros, softMicros: limit.softMicros, thresholds: thresholdsOf(limit.thresholds) };
    const spend = spent.get(limit.id) ?? 0n;
    const fresh = reachedEvents(config, spend).filter((e) => !have.has(`${limit.id}|${eventKey(e)}`));
    if (fresh.length === 0) continue;
    const project = limit.projectId ? await db.project.findUnique({ where: { id: limit.projectId } }) : null;
    if (limit.projectId && (!project || project.archivedAt)) continue;
    const org = await db.org.findUnique({ where: { id: limit.orgId } });
    const scopeRows = project ? { projectIds: [project.id] } : { orgId: limit.orgId };
    const topKeys = (await breakdown(db, scopeRows, period, 'keyId')).map((b) => ({ id: b.id, name: b.label, costMicros: b.costMicros }));
    const scope = project
      ? { kind: 'project' as const, id: project.id, name: project.name }
      : { kind: 'org' as const, id: limit.orgId, name: org?.name ?? 'org' };
    const notify = notifyOf(limit.notify);
    for (const event of fresh) {
      const id = `${limit.id}:${period.key}:${eventKey(event)}`;
      const payload = buildAlertPayload({ id, event, scope, period, limit: config, spendMicros: spend, topKeys, now });
      if (deps.dryRun) {
        lines.push(`would alert ${id}: ${payload.percentage}% (${payload.spend.usd} of ${payload.limit.usd}) → ${notify.join(', ')}`);
        continue;
      }
      const pending = (kind: 'channel' | 'admins' | 'webhook'): Status => (notify.includes(kind) ? 'pending' : 'skipped');
      try {
        await db.alert.create({
          data: {
            id, orgId: limit.orgId, limitId: limit.id, projectId: limit.projectId, period: period.key, eventKey: eventKey(event),
            payload: JSON.stringify(payload), createdAt: now,
            channelStatus: pending('channel'), adminsStatus: pending('admins'),
            webhookStatus: limit.webhookUrl ? pending('webhook') : 'skipped', webhookUrl: limit.webhookUrl,
          },
        });
        lines.push(`alert ${id} recorded`);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error; // another process recorded it first: it delivers
      }
    }
  }
  return lines;
}

/** Delivers every unsent outbox row that is due, one row at a time under a short lease. */
export async function deliverDue(now: Date, deps: JobDeps): Promise<string[]> {
  if (deps.dryRun) return [];
  const db = dbOf(deps);
  const due = await db.alert.findMany({
    where: { sentAt: null, OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: now } }] },
    orderBy: { createdAt: 'asc' },
    take: 200,
    select: { id: true },
  });
  const lines: string[] = [];
  for (const { id } of due) {
    const locked = await db.alert.updateMany({
      where: { id, sentAt: null, OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] },
      data: { lockedBy: deps.instanceId, lockedUntil: new Date(now.getTime() + LOCK_MS) },
    });
    if (locked.count !== 1) continue;
    // Read again under the lease: another process may have delivered part of it meanwhile.
    const row = await db.alert.findUniqueOrThrow({ where: { id } });
    try {
      lines.push(await deliverOne(now, deps, row));
    } catch (error) {
      // Unexpected failure: keep the record, try again in a minute.
      logOf(deps).error({ alertId: id, err: error }, 'alert delivery failed unexpectedly');
      await db.alert.update({ where: { id }, data: { lockedBy: null, lockedUntil: null, lastError: String(error).slice(0, 500), nextAttemptAt: new Date(now.getTime() + 60_000) } });
    }
  }
  return lines;
}

interface Outcome {
  status: Status;
  /** Delay before the next attempt when pending. */
  retryInMs?: number;
  error?: string;
}

async function deliverOne(now: Date, deps: JobDeps, row: AlertRow): Promise<string> {
  const db = dbOf(deps);
  const payload = JSON.parse(row.payload) as AlertPayload;
  const limit = await db.limit.findUnique({ where: { id: row.limitId } });
  const jitter = deps.jitter?.() ?? Math.random();
  const data: Record<string, unknown> = { lockedBy: null, lockedUntil: null };
  const outcomes: Outcome[] = [];
  const errors: string[] = [];

  if (row.channelStatus === 'pending') {
    const channel = row.channelId ?? (await channelFor(deps, row.orgId, row.projectId, limit?.channelId));
    const attempts = row.channelAttempts + 1;
    const o = !deps.notifier
      ? { status: 'skipped' as const, error: 'no Slack bot token' }
      : !channel
        ? { status: 'skipped' as const, error: 'no alert channel set (/limits set … channel=#channel or /project channel)' }
        : await slackAttempt(deps, () => deps.notifier!.post(channel, limitAlertMessage(payload)), attempts, jitter, {
            orgId: row.orgId, projectId: row.projectId, destination: `channel:${channel}`, channel, alertId: row.id,
          });
    Object.assign(data, { channelStatus: o.status, channelId: channel, channelAttempts: attempts });
    outcomes.push(o);
    if (o.error) errors.push(`channel: ${o.error}`);
  }

  if (row.adminsStatus === 'pending') {
    const done = new Set(JSON.parse(row.adminsDone) as string[]);
    const attempts = row.adminsAttempts + 1;
    let o: Outcome = { status: 'sent' };
    if (!deps.notifier) o = { status: 'skipped', error: 'no Slack bot token' };
    else {
      for (const admin of await adminsOf(deps, row.orgId, row.projectId)) {
        if (done.has(admin)) continue;
        const r = await slackAttempt(deps, () => deps.notifier!.dm(admin, limitAlertMessage(payload)), attempts, jitter, null);
        if (r.status === 'pending') o = r; // retry the rest later
        else done.add(admin); // sent, or a refusal retrying cannot fix (logged)
        if (r.error) errors.push(`dm ${admin}: ${r.error}`);
      }
    }
    Object.assign(data, { adminsStatus: o.status, adminsDone: JSON.stringify([...done]), adminsAttempts: attempts });
    outcomes.push(o);
  }

  if (row.webhookStatus === 'pending') {
    const attempts = row.webhookAttempts + 1;
    const o = row.webhookUrl ? await webhookAttempt(now, deps, row, payload, attempts, jitter) : { status: 'skipped' as const };
    Object.assign(data, { webhookStatus: o.status, webhookAttempts: attempts });
    outcomes.push(o);
    if (o.error) errors.push(`webhook: ${o.error}`);
  }

  const statuses = [data.channelStatus ?? row.channelStatus, data.adminsStatus ?? row.adminsStatus, data.webhookStatus ?? row.webhookStatus] as string[];
  const waits = outcomes.filter((o) => o.status === 'pending').map((o) => o.retryInMs ?? 60_000);
  if (statuses.every((s) => DONE.has(s))) data.sentAt = now;
  else data.nextAttemptAt = new Date(now.getTime() + Math.min(...waits));
  if (errors.length) data.lastError = errors.join('; ').slice(0, 1000);
  await db.alert.update({ where: { id: row.id }, data });
  return `alert ${row.id}: channel ${statuses[0]}, admins ${statuses[1]}, webhook ${statuses[2]}`;
}

/** One Slack call, classified: retry with backoff, surface to admins once, or drop. */
async function slackAttempt(
  deps: JobDeps,
  send: () => Promise<unknown>,
  attempts: number,
  jitter: number,
  problem: { orgId: string; projectId: string | null; destination: string; channel: string; alertId: string } | null,
): Promise<Outcome> {
  try {
    await send();
    if (problem) await problemSolved(deps, problem.destination);
    return { status: 'sent' };
  } catch (error) {
    const e = error instanceof NotifyError ? error : new NotifyError('request_timeout');
    const kind = classifySlackError(e.code);
    if (kind === 'retry') {
      const wait = retryDelay(attempts, SLACK_RETRY, jitter, e.retryAfterMs);
      if (wait !== null) return { status: 'pending', retryInMs: wait, error: e.code };
    }
    if (problem && kind !== 'drop') await surfaceProblem(deps, { ...problem, code: e.code });
    logOf(deps).warn({ code: e.code, destination: problem?.destination }, 'Slack refused an alert');
    return { status: 'failed', error: e.code };
  }
}

async function webhookAttempt(now: Date, deps: JobDeps, row: AlertRow, payload: AlertPayload, attempts: number, jitter: number): Promise<Outcome> {
  const body = JSON.stringify(payload);
  // Signed with this limit's own secret (and the old org-wide one while its webhook relies on it).
  const secrets = await deps.services.limits.signingSecrets(row.limitId);
  if (secrets.length === 0) return { status: 'skipped', error: 'the limit no longer has a webhook' };
  const headers = signWebhook(secrets, body, now, { event: payload.type, delivery: row.id });
  let status: number | undefined;
  try {
    status = await postWebhook(row.webhookUrl!, { headers, body, timeoutMs: 10_000, allow: deps.services.deps.webhookAllowPrivate ?? [] });
    if (status >= 200 && status < 300) {
      await problemSolved(deps, `webhook:${row.limitId}`);
      return { status: 'sent' };
    }
  } catch (error) {
    if (error instanceof WebhookBlocked) return blocked(deps, row, attempts);
    status = undefined; // network error or timeout
  }
  const error = status === undefined ? 'unreachable' : `HTTP ${status}`;
  logOf(deps).warn({ alertId: row.id, url: maskUrl(row.webhookUrl!), error, attempts }, 'alert webhook failed');
  const wait = isRetryableStatus(status) ? retryDelay(attempts, WEBHOOK_RETRY, jitter) : null;
  if (wait !== null) return { status: 'pending', retryInMs: wait, error };
  await surfaceProblem(deps, {
    orgId: row.orgId, projectId: row.projectId, destination: `webhook:${row.limitId}`, code: error, alertId: row.id,
    hint: `The alert webhook ${maskUrl(row.webhookUrl!)} answered ${error} after ${attempts} attempt${attempts === 1 ? '' : 's'}; keyward stopped retrying this alert. Check the receiver, or change it with /limits set … webhook=<https url>.`,
  });
  return { status: 'failed', error };
}

/** A private or reserved target is final (retrying cannot help) and told to admins once. */
async function blocked(deps: JobDeps, row: AlertRow, attempts: number): Promise<Outcome> {
  const error = 'blocked: private or reserved address';
  logOf(deps).warn({ alertId: row.id, url: maskUrl(row.webhookUrl!), attempts }, 'alert webhook refused: private or reserved address');
  await surfaceProblem(deps, {
    orgId: row.orgId, projectId: row.projectId, destination: `webhook:${row.limitId}`, code: error, alertId: row.id,
    hint: `The alert webhook ${maskUrl(row.webhookUrl!)} points to a private or reserved address, which keyward does not call. Give a public https URL with /limits set … webhook=<https url>.`,
  });
  return { status: 'failed', error };
}
