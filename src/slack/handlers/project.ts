import type { App } from '@slack/bolt';
import { roleLabel, type Role } from '../../domain/roles.js';
import { forbidden, isDomainError } from '../../domain/errors.js';
import { WebClientNotifier } from '../../services/notifier.js';
import { actorFor, describeError, explain, reply, replyTo, type SlackDeps } from '../context.js';
import { parseProjectCommand } from '../parse.js';
import { note, type Message } from '../views/common.js';
import { projectHelp } from '../views/help.js';
import {
  HEIR_BLOCK, keysTransferred, KEYS_CHOICE_BLOCK, memberRemoved, projectDetail, projectList, removeMemberModal, REMOVE_MEMBER_CALLBACK,
} from '../views/projects.js';
import { infoModal } from '../views/secrets.js';
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
    let message: Message | null;
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
            // Refusals (not a member, last Admin) come before the confirmation, which lists their keys.
            const preview = await projects.removalPreview(actor, cmd.name, cmd.userId);
            await client.views.open({ trigger_id: command.trigger_id, view: removeMemberModal(preview, { responseUrl: command.response_url }) });
            message = null;
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
    if (message) await reply(respond, message, deps.logger);
  });

  // The removal confirmation: revoke the member's keys (default) or transfer them.
  app.view(REMOVE_MEMBER_CALLBACK, async ({ ack, body, view, client }) => {
    let meta: { p?: string; u?: string; r?: string };
    try {
      meta = JSON.parse(view.private_metadata || '{}');
    } catch {
      meta = {};
    }
    const values = view.state.values as Record<string, Record<string, { selected_option?: { value: string } | null; selected_user?: string | null }>>;
    const transfer = values[KEYS_CHOICE_BLOCK]?.value?.selected_option?.value === 'transfer';
    const heir = values[HEIR_BLOCK]?.value?.selected_user ?? null;
    if (transfer && !heir) return void (await ack({ response_action: 'errors', errors: { [HEIR_BLOCK]: 'Choose who takes over the keys, or choose to revoke them.' } }));
    let removed: Awaited<ReturnType<SlackDeps['services']['projects']['removeMember']>>;
    let actor: Awaited<ReturnType<typeof actorFor>>;
    try {
      actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      removed = await deps.services.projects.removeMember(actor, meta.p ?? '', meta.u ?? '', { transferTo: transfer ? heir : null });
    } catch (error) {
      // A refused new owner stays on the field; anything else replaces the modal.
      if (transfer && isDomainError(error) && error.message.includes(`<@${heir}>`)) {
        return void (await ack({ response_action: 'errors', errors: { [HEIR_BLOCK]: error.message } }));
      }
      return void (await ack({ response_action: 'update', view: infoModal('Not removed', explain(error, deps.logger, 'remove member').text) }));
    }
    await ack();
    await replyTo(meta.r, memberRemoved(removed), deps.logger);
    if (removed.transferTo && removed.transferredKeys.length && removed.transferTo !== actor.userId) {
      await new WebClientNotifier(client)
        .dm(removed.transferTo, keysTransferred(removed, actor.userId ?? actor.id))
        .catch((error: unknown) => deps.logger.warn({ error: describeError(error) }, 'could not tell the new key owner'));
    }
  });
}
