import type { App } from '@slack/bolt';
import { actorFor, explain, reply, type SlackDeps } from '../context.js';
import { clip, tokenize } from '../parse.js';
import { note, type Message } from '../views/common.js';
import { keywardHelp } from '../views/help.js';
import { runAudit } from './audit.js';
import { runReview } from './reviews.js';
import { runTwoFactor } from './twofactor.js';
import { runJobCommand } from './run.js';
import { runSettings } from './settings.js';

export function registerKeywardCommand(app: App, deps: SlackDeps) {
  app.command('/keyward', async ({ command, ack, respond, client }) => {
    await ack();
    let message: Message | null;
    try {
      const [first, ...rest] = tokenize(command.text ?? '');
      const sub = (first ?? '').toLowerCase();
      if (sub === '' || sub === 'help') message = keywardHelp();
      else if (sub === 'settings') message = await runSettings(deps, await actorFor(deps, client, command.team_id, command.user_id), rest);
      else if (sub === 'run') message = await runJobCommand(deps, client, await actorFor(deps, client, command.team_id, command.user_id), rest);
      else if (sub === '2fa' || sub === 'review' || sub === 'audit') {
        const actor = await actorFor(deps, client, command.team_id, command.user_id);
        if (sub === '2fa') message = await runTwoFactor(deps, client, actor, rest, command.user_name, command.trigger_id);
        else if (sub === 'review') message = await runReview(deps, client, actor, rest, { triggerId: command.trigger_id, responseUrl: command.response_url });
        else message = await runAudit(deps, client, actor, rest);
      } else {
        message = note(`Unknown subcommand "${clip(sub)}". \`/keyward help\` lists everything; keys live under \`/keys\`, projects under \`/project\`.`);
      }
    } catch (error) {
      message = explain(error, deps.logger, '/keyward');
    }
    if (message) await reply(respond, message, deps.logger);
  });
}
