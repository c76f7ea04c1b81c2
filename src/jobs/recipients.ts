/** Where notifications go, and telling admins once about a destination only a human can fix. */
import { slackFailureHint } from '../domain/webhooks.js';
import { isUniqueViolation } from '../db/errors.js';
import { deliveryProblemMessage } from '../slack/views/alerts.js';
import { dbOf, logOf, type JobDeps } from './context.js';

/** Org admins keyward knows: KEYWARD_ADMINS plus cached Slack workspace admins/owners. */
export async function orgAdmins(deps: JobDeps, orgId: string): Promise<string[]> {
  const cached = await dbOf(deps).slackUser.findMany({ where: { orgId, isWorkspaceAdmin: true }, select: { userId: true } });
  return [...new Set([...deps.admins, ...cached.map((u) => u.userId)])].sort();
}

/** A project's Admins; the org admins when a project has none (or for org-level notices). */
export async function adminsOf(deps: JobDeps, orgId: string, projectId: string | null): Promise<string[]> {
  if (projectId) {
    const rows = await dbOf(deps).membership.findMany({ where: { projectId, role: 'admin' }, select: { userId: true }, orderBy: { userId: 'asc' } });
    if (rows.length) return rows.map((r) => r.userId);
  }
  return orgAdmins(deps, orgId);
}

/** The limit's channel, else the project's alert channel, else the org default. */
export async function channelFor(deps: JobDeps, orgId: string, projectId: string | null, limitChannel?: string | null): Promise<string | null> {
  if (limitChannel) return limitChannel;
  const db = dbOf(deps);
  if (projectId) {
    const p = await db.project.findUnique({ where: { id: projectId }, select: { alertChannelId: true } });
    if (p?.alertChannelId) return p.alertChannelId;
  }
  const org = await db.org.findUnique({ where: { id: orgId }, select: { alertChannelId: true } });
  return org?.alertChannelId ?? null;
}

/**
 * Tells the admins once that `destination` fails for a reason only they can fix; later failures
 * of the same destination stay quiet until `problemSolved` (a success) clears it.
 */
export async function surfaceProblem(
  deps: JobDeps,
  input: { orgId: string; projectId: string | null; destination: string; code: string; channel?: string; alertId?: string; hint?: string },
): Promise<void> {
  const db = dbOf(deps);
  const log = logOf(deps);
  log.warn({ destination: input.destination, code: input.code, alertId: input.alertId }, 'notification destination failing');
  if (deps.dryRun) return;
  try {
    await db.deliveryProblem.create({ data: { destination: input.destination, orgId: input.orgId, code: input.code, notifiedAt: deps.services.deps.now?.() ?? new Date() } });
  } catch (error) {
    if (isUniqueViolation(error)) return; // already told
    throw error;
  }
  if (!deps.notifier) return;
  const where = input.channel ? `<#${input.channel}>` : input.destination.replace(/^webhook:.*/, 'the alert webhook');
  const message = deliveryProblemMessage({ destination: where, hint: input.hint ?? slackFailureHint(input.code, input.channel), alertId: input.alertId });
  for (const admin of await adminsOf(deps, input.orgId, input.projectId)) {
    await deps.notifier.dm(admin, message).catch((error: unknown) => log.warn({ admin, error: String(error) }, 'could not tell an admin about a delivery problem'));
  }
}

export async function problemSolved(deps: JobDeps, destination: string): Promise<void> {
  if (deps.dryRun) return;
  await dbOf(deps).deliveryProblem.deleteMany({ where: { destination } });
}
