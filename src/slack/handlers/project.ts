import type { App } from '@slack/bolt';
import { roleLabel, type Role } from '../../domain/roles.js';
import { forbidden } from '../../domain/errors.js';
import { actorFor, explain, reply, type SlackDeps } from '../context.js';
import { clip, parseProjectCommand } from '../parse.js';
import { esc, note, type Message } from '../views/common.js';
import { projectHelp } from '../views/help.js';
import { projectDetail, projectList } from '../views/projects.js';
import { runSensitive, sensitiveAction, type GuardInput } from '../stepup.js';

// What a confirmed code modal does (the services ask enrolled users for a code; domain/stepup.ts).
sensitiveAction('member.add', async ({ deps, actor, proof }, a) => added(await deps.services.projects.addMember(actor, a.name!, a.userId!, a.role as Role, proof)));
sensitiveAction('member.role', async ({ deps, actor, proof }, a) => roleChanged(await deps.services.projects.setRole(actor, a.name!, a.userId!, a.role as Role, proof)));
sensitiveAction('member.remove', async ({ deps, actor, proof }, a) => removed(await deps.services.projects.removeMember(actor, a.name!, a.userId!, proof)));
sensitiveAction('project.policy', async ({ deps, actor, proof }, a) => policySet(await deps.services.approvals.setPolicy(actor, a.name!, a.policy!, proof)));
sensitiveAction('project.archive', async ({ deps, actor, proof }, a) => archived(await deps.services.projects.archive(actor, a.name!, proof)));

const added = (r: { userId: string; role: Role; project: { name: string } }) => note(`Added <@${r.userId}> to *${r.project.name}* as ${roleLabel(r.role)}.`);
const removed = (r: { userId: string; previous: Role; project: { name: string } }) => note(`Removed <@${r.userId}> (${roleLabel(r.previous)}) from *${r.project.name}*.`);
const policySet = (r: { name: string; policy: string; previous: string }) => note(`Approval policy of *${r.name}* is now \`${r.policy}\` (was \`${r.previous}\`).`);

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
    let message: Message | null;
    try {
      const cmd = parseProjectCommand(command.text ?? '');
      if (cmd.kind === 'help') message = projectHelp();
      else {
        const actor = await actorFor(deps, client, command.team_id, command.user_id);
        const projects = deps.services.projects;
        const confirm = (kind: GuardInput['kind'], args: Record<string, string>, title: string, text: string): GuardInput =>
          ({ kind, args, title, text, triggerId: command.trigger_id, responseUrl: command.response_url });
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
          // The services refuse first (permissions, state), then ask enrolled users for a code.
          case 'add': {
            const a = { name: cmd.name, userId: cmd.userId, role: cmd.role };
            const g = confirm('member.add', a, 'Add an Admin', `Make <@${cmd.userId}> an Admin of *${esc(clip(cmd.name))}*?`);
            message = await runSensitive(client, g, async () => added(await projects.addMember(actor, cmd.name, cmd.userId, cmd.role)));
            break;
          }
          case 'role': {
            const a = { name: cmd.name, userId: cmd.userId, role: cmd.role };
            const g = confirm('member.role', a, 'Change role', `Make <@${cmd.userId}> ${roleLabel(cmd.role)} of *${esc(clip(cmd.name))}*?`);
            message = await runSensitive(client, g, async () => roleChanged(await projects.setRole(actor, cmd.name, cmd.userId, cmd.role)));
            break;
          }
          case 'policy': {
            const g = confirm('project.policy', { name: cmd.name, policy: cmd.policy }, 'Change approvals', `Set the approval policy of *${esc(clip(cmd.name))}* to \`${esc(clip(cmd.policy))}\`?`);
            message = await runSensitive(client, g, async () => policySet(await deps.services.approvals.setPolicy(actor, cmd.name, cmd.policy)));
            break;
          }
          case 'remove': {
            const g = confirm('member.remove', { name: cmd.name, userId: cmd.userId }, 'Remove member', `Remove <@${cmd.userId}> from *${esc(clip(cmd.name))}*?`);
            message = await runSensitive(client, g, async () => removed(await projects.removeMember(actor, cmd.name, cmd.userId)));
            break;
          }
          case 'archive': {
            if (!actor.orgAdmin) throw forbidden('Only organisation admins can archive projects.');
            const g = confirm('project.archive', { name: cmd.name }, 'Archive project', `Archive *${esc(clip(cmd.name))}*? Its active keys are revoked at once.`);
            message = await runSensitive(client, g, async () => archived(await projects.archive(actor, cmd.name)));
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
    if (message) await reply(respond, message, deps.logger);
  });
}
