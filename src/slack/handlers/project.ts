import type { App } from '@slack/bolt';
import { roleLabel, type Role } from '../../domain/roles.js';
import { forbidden } from '../../domain/errors.js';
import { actorFor, explain, reply, type SlackDeps } from '../context.js';
import { parseProjectCommand } from '../parse.js';
import { note, type Message } from '../views/common.js';
import { projectHelp } from '../views/help.js';
import { projectDetail, projectList } from '../views/projects.js';
import { guardSensitive, sensitiveAction } from '../stepup.js';

// Changing roles and archiving need a TOTP step-up (stepup.ts) from enrolled users.
sensitiveAction('member.role', async ({ deps, actor }, a) => roleChanged(await deps.services.projects.setRole(actor, a.name!, a.userId!, a.role as Role)));
sensitiveAction('project.archive', async ({ deps, actor }, a) => archived(await deps.services.projects.archive(actor, a.name!)));

const roleChanged = (r: { userId: string; role: Role; previous: Role; changed: boolean; project: { name: string } }) =>
  note(
    r.changed
      ? `<@${r.userId}> is now ${roleLabel(r.role)} of *${r.project.name}* (was ${roleLabel(r.previous)}).`
      : `<@${r.userId}> already is ${roleLabel(r.role)} of *${r.project.name}*; nothing changed.`,
  );
const archived = (r: { project: { name: string }; revokedKeys: number }) =>
  note(`Archived *${r.project.name}* and revoked its ${r.revokedKeys} active key${r.revokedKeys === 1 ? '' : 's'}.`);

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
            // Refuse before asking for a code.
            const { project } = await projects.require(actor, cmd.name, 'member.manage');
            const text = `Make <@${cmd.userId}> ${roleLabel(cmd.role)} of *${project.name}*?`;
            const g = { kind: 'member.role', args: { name: cmd.name, userId: cmd.userId, role: cmd.role }, title: 'Change role', text, triggerId: command.trigger_id, responseUrl: command.response_url };
            if (await guardSensitive(deps, client, actor, g)) return;
            message = roleChanged(await projects.setRole(actor, cmd.name, cmd.userId, cmd.role));
            break;
          }
          case 'policy': {
            const r = await deps.services.approvals.setPolicy(actor, cmd.name, cmd.policy);
            message = note(`Approval policy of *${r.name}* is now \`${r.policy}\` (was \`${r.previous}\`).`);
            break;
          }
          case 'remove': {
            const r = await projects.removeMember(actor, cmd.name, cmd.userId);
            message = note(`Removed <@${r.userId}> (${roleLabel(r.previous)}) from *${r.project.name}*.`);
            break;
          }
          case 'archive': {
            if (!actor.orgAdmin) throw forbidden('Only organisation admins can archive projects.');
            const { project } = await projects.require(actor, cmd.name, 'project.archive', { allowArchived: true });
            const text = `Archive *${project.name}*? Its active keys are revoked at once.`;
            const g = { kind: 'project.archive', args: { name: cmd.name }, title: 'Archive project', text, triggerId: command.trigger_id, responseUrl: command.response_url };
            if (await guardSensitive(deps, client, actor, g)) return;
            message = archived(await projects.archive(actor, cmd.name));
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
