import type { App } from '@slack/bolt';
import { reply, type SlackDeps } from '../context.js';
import { clip, tokenize } from '../parse.js';
import { note } from '../views/common.js';
import { keywardHelp } from '../views/help.js';

export function registerKeywardCommand(app: App, deps: SlackDeps) {
  app.command('/keyward', async ({ command, ack, respond }) => {
    await ack();
    let sub = '';
    try {
      sub = (tokenize(command.text ?? '')[0] ?? '').toLowerCase();
    } catch {
      sub = '?';
    }
    const message =
      sub === '' || sub === 'help'
        ? keywardHelp()
        : note(`Unknown subcommand "${clip(sub)}". \`/keyward help\` lists everything; keys live under \`/keys\`, projects under \`/project\`.`);
    await reply(respond, message, deps.logger);
  });
}
