/**
 * Offboarding from Slack events: a user deactivated (`user_change` with `user.deleted`) or gone
 * from the workspace (`team_leave`) loses every keyward key and membership of the org at once, and
 * the Admins of each project they were in are told (the org admins too when a project lost its
 * last Admin). Event retries are dropped by event_id (app.ts); a repeat with another id finds
 * nothing left to do and tells nobody again.
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { WebClientNotifier } from '../../services/notifier.js';
import { describeError, type SlackDeps } from '../context.js';
import { memberOffboarded } from '../views/projects.js';

type EventUser = string | { id?: string; deleted?: boolean } | undefined;

const userIdOf = (user: EventUser) => (typeof user === 'string' ? user : user?.id) ?? null;

export async function offboardSlackUser(deps: SlackDeps, client: WebClient, teamId: string, userId: string, reason: 'deactivated' | 'left') {
  const done = await deps.services.projects.offboard(teamId, userId, reason);
  if (!done?.projects.length) return;
  deps.logger.info({ userId, reason, projects: done.projects.length }, 'offboarded a Slack user');
  const notifier = new WebClientNotifier(client);
  const orgAdmins = done.projects.some((p) => p.withoutAdmin) ? await deps.admins.list(done.orgId) : [];
  for (const p of done.projects) {
    const message = memberOffboarded(userId, reason, p);
    const to = new Set([...p.admins, ...(p.withoutAdmin ? orgAdmins : [])]);
    to.delete(userId);
    for (const admin of to) {
      await notifier.dm(admin, message).catch((error: unknown) => deps.logger.warn({ admin, error: describeError(error) }, 'could not tell an Admin about an offboarding'));
    }
  }
}

export function registerOffboarding(app: App, deps: SlackDeps) {
  const handle = (reason: 'deactivated' | 'left') =>
    async ({ event, body, client }: { event: { user?: EventUser }; body: { team_id?: string }; client: WebClient }) => {
      const userId = userIdOf(event.user);
      if (!userId || !body.team_id) return;
      if (reason === 'deactivated' && !(typeof event.user === 'object' && event.user.deleted === true)) return;
      try {
        await offboardSlackUser(deps, client, body.team_id, userId, reason);
      } catch (error) {
        deps.logger.error({ userId, error: describeError(error) }, 'offboarding failed');
      }
    };
  app.event('user_change', handle('deactivated') as never);
  app.event('team_leave', handle('left') as never);
}
