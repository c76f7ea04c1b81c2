import type { App } from '@slack/bolt';
import { roleLabel, type Role } from '../../domain/roles.js';
import { forbidden, isDomainError } from '../../domain/errors.js';
import { WebClientNotifier } from '../../services/notifier.js';
import { actorFor, describeError, explain, reply, replyTo, type SlackDeps } from '../context.js';
import { clip, parseProjectCommand } from '../parse.js';
import { esc, note, type Message } from '../views/common.js';
import { projectHelp } from '../views/help.js';
import {
  HEIR_BLOCK, keysTransferred, KEYS_CHOICE_BLOCK, memberRemoved, projectDetail, projectList, removeMemberModal, REMOVE_MEMBER_CALLBACK,
} from '../views/projects.js';
import { infoModal } from '../views/secrets.js';
import { checkStepUp, runSensitive, sensitiveAction, stepUpNeed, withCodeField, type GuardInput } from '../stepup.js';

// What a confirmed code modal does (the services ask enrolled users for a code; domain/stepup.ts).
sensitiveAction('member.add', async ({ deps, actor, proof }, a) => added(await deps.services.projects.addMember(actor, a.name!, a.userId!, a.role as Role, proof)));
sensitiveAction('member.role', async ({ deps, actor, proof }, a) => roleChanged(await deps.services.projects.setRole(actor, a.name!, a.userId!, a.role as Role, proof)));
sensitiveAction('project.policy', async ({ deps, actor, proof }, a) => policySet(await deps.services.approvals.setPolicy(actor, a.name!, a.policy!, proof)));
sensitiveAction('project.archive', async ({ deps, actor, proof }, a) => archived(await deps.services.projects.archive(actor, a.name!, proof)));

const added = (r: { userId: string; role: Role; project: { name: string } }) => note(`Added <@${r.userId}> to *${r.project.name}* as ${roleLabel(r.role)}.`);
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
            // Refusals (not a member, last Admin) come first. Someone with keys, or a remover who must
            // step up, gets the confirmation: it lists the keys (revoke or transfer) and takes the code.
            const preview = await projects.removalPreview(actor, cmd.name, cmd.userId);
            const need = await stepUpNeed(deps, actor);
            if (preview.keys.length === 0 && need === 'none') {
              message = memberRemoved(await projects.removeMember(actor, cmd.name, cmd.userId));
              break;
            }
            const view = withCodeField(removeMemberModal(preview, { responseUrl: command.response_url }), need);
            await client.views.open({ trigger_id: command.trigger_id, view });
            message = null;
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
      const checked = await checkStepUp(deps, actor, view.state.values as never, 'member.remove');
      if (checked.refused) return void (await ack(checked.refused));
      removed = await deps.services.projects.removeMember(actor, meta.p ?? '', meta.u ?? '', { transferTo: transfer ? heir : null, step: checked.proof });
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
