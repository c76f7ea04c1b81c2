import type { App } from '@slack/bolt';
import { roleLabel } from '../../domain/roles.js';
import { actorFor, explain, reply, type SlackDeps } from '../context.js';
import { parseProjectCommand } from '../parse.js';
import { note, type Message } from '../views/common.js';
import { projectHelp } from '../views/help.js';
import { projectDetail, projectList } from '../views/projects.js';

export function registerProjectCommand(app: App, deps: SlackDeps) {
  app.command('/project', async ({ command, ack, respond, client }) => {
    await ack();
    let message: Message;
    try {
      const cmd = parseProjectCommand(command.text ?? '');
      if (cmd.kind === 'help') message = projectHelp();
      else {
        const actor = await actorFor(deps, client, command.team_id, command.user_id);
        const projects = deps.services.projects;
        switch (cmd.kind) {
          case 'list':
            message = projectList(await projects.list(actor), actor.orgAdmin);
            break;
          case 'show':
            message = projectDetail(await projects.show(actor, cmd.name));
            break;
          case 'create': {
            const p = await projects.create(actor, cmd.name, cmd.description);
            message = note(
              `:white_check_mark: Created project *${p.name}*; you are its Admin. Add people with \`/project add ${p.name} @someone developer\` and create keys with \`/keys create\`.`,
            );
            break;
          }
          case 'add': {
            const r = await projects.addMember(actor, cmd.name, cmd.userId, cmd.role);
            message = note(`Added <@${r.userId}> to *${r.project.name}* as ${roleLabel(r.role)}.`);
            break;
          }
          case 'role': {
            const r = await projects.setRole(actor, cmd.name, cmd.userId, cmd.role);
            message = note(
              r.changed
                ? `<@${r.userId}> is now ${roleLabel(r.role)} of *${r.project.name}* (was ${roleLabel(r.previous)}).`
                : `<@${r.userId}> already is ${roleLabel(r.role)} of *${r.project.name}*; nothing changed.`,
            );
            break;
          }
          case 'remove': {
            const r = await projects.removeMember(actor, cmd.name, cmd.userId);
            message = note(`Removed <@${r.userId}> (${roleLabel(r.previous)}) from *${r.project.name}*.`);
            break;
          }
          case 'archive': {
            const r = await projects.archive(actor, cmd.name);
            message = note(`Archived *${r.project.name}* and revoked its ${r.revokedKeys} active key${r.revokedKeys === 1 ? '' : 's'}.`);
            break;
          }
          case 'channel': {
            const p = await projects.setChannel(actor, cmd.name, cmd.channelId);
            message = note(`Alerts for *${p.name}* now go to <#${cmd.channelId}>. Invite @keyward there so it can post.`);
            break;
          }
        }
      }
    } catch (error) {
      message = explain(error, deps.logger, '/project');
    }
    await reply(respond, message, deps.logger);
  });
}
