/**
 * Rotation reminders: keys older than the rotation age or expiring soon → a DM to the owner, at
 * most once per key per week. The KeyReminder row is claimed first (insert, or a conditional
 * update of a reminder older than a week), so two processes never DM the same key twice.
 */
import { shouldRemind } from '../domain/jobs.js';
import { isUniqueViolation } from '../db/errors.js';
import { rotationReminderMessage } from '../slack/views/digest.js';
import { dbOf, logOf, type JobDeps, type JobResult } from './context.js';

const DAY = 86_400_000;

export async function runReminders(now: Date, deps: JobDeps): Promise<JobResult> {
  if (!deps.notifier) {
    logOf(deps).debug('rotation reminders skipped: no Slack bot token');
    return { lines: [] };
  }
  const db = dbOf(deps);
  const policy = deps.rotation;
  const keys = await db.apiKey.findMany({ where: { status: 'active', project: { archivedAt: null } }, include: { project: { select: { name: true } } } });
  const reminded = new Map((await db.keyReminder.findMany({ where: { keyId: { in: keys.map((k) => k.id) } } })).map((r) => [r.keyId, r.lastRemindedAt]));
  const lines: string[] = [];
  for (const key of keys) {
    const last = reminded.get(key.id) ?? null;
    const due = shouldRemind({ ...key, lastRemindedAt: last }, now, policy);
    if (!due) continue;
    const dueKey = { id: key.id, name: key.name, projectName: key.project.name, ownerId: key.ownerId, due };
    if (!deps.dryRun && !(await claimReminder(deps, key.id, key.orgId, last, now, due.reason))) continue;
    try {
      await deps.notifier.dm(key.ownerId, rotationReminderMessage(dueKey));
      lines.push(`${deps.dryRun ? 'would remind' : 'reminded'} <@${key.ownerId}> about ${key.id} (${due.reason})`);
    } catch (error) {
      logOf(deps).warn({ keyId: key.id, error: String(error) }, 'rotation reminder could not be sent');
      lines.push(`reminder for ${key.id} failed: ${String(error)}`);
    }
  }
  return { lines };
}

async function claimReminder(deps: JobDeps, keyId: string, orgId: string, last: Date | null, now: Date, reason: string): Promise<boolean> {
  const db = dbOf(deps);
  if (!last) {
    try {
      await db.keyReminder.create({ data: { keyId, orgId, lastRemindedAt: now, reason } });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }
  const r = await db.keyReminder.updateMany({
    where: { keyId, lastRemindedAt: { lte: new Date(now.getTime() - deps.rotation.remindEveryDays * DAY) } },
    data: { lastRemindedAt: now, reason },
  });
  return r.count === 1;
}
