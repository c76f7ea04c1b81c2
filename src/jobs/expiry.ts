/**
 * Key expiry and rotation grace end, enforced by the database (not only by the gateway's clock
 * check): expired keys flip to `expired`, a previous secret past its grace is erased. Each change
 * is a conditional update (one process wins), a KeyChange row (gateway caches drop the key), an
 * audit event, and for expiry a DM to the owner.
 */
import { systemActor } from '../services/context.js';
import { audit } from '../services/audit.js';
import { markKeyChanged } from '../services/key-changes.js';
import { expireRevealButtons } from '../slack/delivery.js';
import { context, esc, fitMessage, section } from '../slack/views/common.js';
import { dbOf, logOf, type JobDeps, type JobResult } from './context.js';

export async function runExpiry(now: Date, deps: JobDeps): Promise<JobResult> {
  const db = dbOf(deps);
  const lines: string[] = [];
  const expiring = await db.apiKey.findMany({
    where: { status: 'active', expiresAt: { lte: now } },
    include: { project: { select: { name: true } } },
    take: 500,
  });
  for (const key of expiring) {
    if (deps.dryRun) {
      lines.push(`would expire ${key.id} (${key.name}, ${key.project.name}) and tell <@${key.ownerId}>`);
      continue;
    }
    const changed = await db.$transaction(async (tx) => {
      const r = await tx.apiKey.updateMany({ where: { id: key.id, status: 'active' }, data: { status: 'expired' } });
      if (r.count === 0) return false;
      await markKeyChanged(tx, key.id, now);
      await audit(tx, systemActor(key.orgId), now, {
        action: 'key.expired', projectId: key.projectId, targetType: 'key', targetId: key.id,
        details: { name: key.name, expiresAt: key.expiresAt?.toISOString() },
      });
      return true;
    });
    if (!changed) continue;
    lines.push(`expired ${key.id}`);
    const text = `Your key ${key.name} (${key.project.name}) expired and no longer works.`;
    await deps.notifier
      ?.dm(key.ownerId, fitMessage(text, [
        section(`:hourglass: Your key *${esc(key.name)}* \`${key.id}\` in *${esc(key.project.name)}* expired and no longer works.`),
        context(`Create a new one with \`/keys create ${key.project.name}\`.`),
      ]))
      .catch((error: unknown) => logOf(deps).warn({ keyId: key.id, error: String(error) }, 'could not tell the owner about an expired key'));
  }

  const graceOver = await db.apiKey.findMany({ where: { prevSecretHash: { not: null }, graceEndsAt: { lte: now } }, take: 500 });
  for (const key of graceOver) {
    if (deps.dryRun) {
      lines.push(`would end the rotation grace of ${key.id}`);
      continue;
    }
    await db.$transaction(async (tx) => {
      const r = await tx.apiKey.updateMany({
        where: { id: key.id, prevSecretHash: key.prevSecretHash, graceEndsAt: { lte: now } },
        data: { prevSecretHash: null, prevHint: null, graceEndsAt: null },
      });
      if (r.count === 0) return;
      await markKeyChanged(tx, key.id, now);
      await audit(tx, systemActor(key.orgId), now, {
        action: 'key.grace_ended', projectId: key.projectId, targetType: 'key', targetId: key.id, details: { name: key.name, previousHint: key.prevHint },
      });
      lines.push(`grace ended for ${key.id}`);
    });
  }
  return { lines };
}

/**
 * Expired one-time Reveal buttons are erased and replaced (src/slack/delivery.ts); two-factor QR
 * images of enrollments nobody finished or closed are deleted from Slack.
 */
export async function runRevealExpiry(_now: Date, deps: JobDeps): Promise<JobResult> {
  if (!deps.slackClient) {
    logOf(deps).debug('reveal expiry skipped: no Slack bot token');
    return { lines: [] };
  }
  if (deps.dryRun) {
    const n = await dbOf(deps).pendingSecret.count({ where: { erasedAt: null, expiresAt: { lte: _now } } });
    return { lines: [`would erase ${n} expired pending secret${n === 1 ? '' : 's'}`] };
  }
  const n = await expireRevealButtons(deps.services, deps.slackClient);
  let qr = 0;
  for (const f of deps.notifier ? await deps.services.totp.takeAbandonedQrFiles() : []) {
    await deps.notifier!.deleteFile(f.fileId);
    qr++;
  }
  return { lines: [...(n ? [`erased ${n} expired pending secrets`] : []), ...(qr ? [`deleted ${qr} two-factor QR images of unfinished enrollments`] : [])] };
}
