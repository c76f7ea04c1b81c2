import type { App } from '@slack/bolt';
import { actorFor, describeError, type SlackDeps } from '../context.js';
import { homeView } from '../views/home.js';
import { homeUsageBlocks } from '../views/home-usage.js';
import { homeRequestBlocks } from '../views/approvals.js';

export function registerHome(app: App, deps: SlackDeps) {
  app.event('app_home_opened', async ({ event, body, client }) => {
    if (event.tab !== 'home') return;
    try {
      const actor = await actorFor(deps, client, body.team_id, event.user);
      const projects = await deps.services.projects.list(actor);
      const keys = await deps.services.keys.list(actor);
      const view = homeView({
        userId: event.user,
        orgAdmin: actor.orgAdmin,
        projects,
        myKeys: keys.filter((k) => k.ownerId === event.user),
      });
      // Pending key requests (to decide, or the reader's own) right after the keys.
      view.blocks.push(...homeRequestBlocks(await deps.services.approvals.listPending(actor), 100 - view.blocks.length - 10));
      // Usage section (this month, limits, keys due) in whatever room the 100-block tab has left.
      const usage = await deps.services.reports.home(actor);
      view.blocks.push(...homeUsageBlocks({ ...usage, maxBlocks: 100 - view.blocks.length }));
      await client.views.publish({ user_id: event.user, view });
    } catch (error) {
      deps.logger.error({ error: describeError(error) }, 'app home failed');
    }
  });
}
