/** `/limits` (show, set, edit modal). Permissions and validation live in LimitService. */
import type { App } from '@slack/bolt';
import { isDomainError } from '../../domain/errors.js';
import type { LimitSettings, NotifyKind } from '../../domain/limit-settings.js';
import { parseLimitSettings } from '../../domain/limit-settings.js';
import type { Actor } from '../../services/index.js';
import { actorFor, explain, reply, replyTo, type SlackDeps } from '../context.js';
import { clip, tokenize } from '../parse.js';
import { esc, note, type Message } from '../views/common.js';
import { limitDetail, limitList, limitsEditModal, limitsHelp, LIMITS_EDIT_CALLBACK } from '../views/limits.js';
import { decodeMeta } from '../views/modals.js';
import { infoModal } from '../views/secrets.js';
import { checkStepUp, runSensitive, sensitiveAction, stepUpNeed, withCodeField } from '../stepup.js';
import type { StepUpProof } from '../../services/totp.js';

// Changing limits needs a TOTP step-up from enrolled users (stepup.ts).
sensitiveAction('limits.set', async ({ deps, actor, proof }, a) => {
  const v = await deps.services.limits.set(actor, a.target!, JSON.parse(a.words ?? '[]') as string[], proof);
  return { ...limitDetail(v), text: `Saved. ${limitDetail(v).text}` };
});

async function limitsCommand(deps: SlackDeps, actor: Actor, tokens: string[]): Promise<Message> {
  const limits = deps.services.limits;
  const [first, ...rest] = tokens;
  const sub = (first ?? '').toLowerCase();
  if (sub === 'help') return limitsHelp();
  if (sub === 'set') {
    const target = rest[0];
    if (!target) return note('Which limits? `/limits set <project|org> hard=<usd> soft=<usd> …` (`/limits help` lists every setting).');
    const v = await limits.set(actor, target, rest.slice(1));
    return { ...limitDetail(v), text: `Saved. ${limitDetail(v).text}` };
  }
  if (sub === '') {
    const projects = await deps.services.projects.list({ ...actor, orgAdmin: false });
    if (projects.length === 0 && actor.orgAdmin) return limitDetail(await limits.show(actor, 'org'));
    return limitList(await Promise.all(projects.map((p) => limits.show(actor, p.name))));
  }
  const target = sub === 'show' ? rest[0] : first!;
  if (!target) return note('Which limits? `/limits <project>` or `/limits org`.');
  if ((sub === 'show' ? rest.length > 1 : rest.length > 0)) return note(`Unexpected "${clip(rest[rest.length - 1]!)}". To change limits: \`/limits set ${clip(target)} hard=<usd> …\`.`);
  return limitDetail(await limits.show(actor, target));
}

type Values = Record<string, Record<string, { value?: string | null; selected_conversation?: string | null; selected_options?: Array<{ value: string }> }>>;

/** Modal values → settings; an empty field clears its setting. */
export function settingsFromModal(values: Values): { settings?: LimitSettings; errors?: Record<string, string> } {
  const text = (b: string) => (values[b]?.value?.value ?? '').trim();
  const errors: Record<string, string> = {};
  const settings: LimitSettings = {};
  const one = (block: string, raw: string) => {
    try {
      Object.assign(settings, parseLimitSettings([`${block}=${raw === '' ? 'none' : raw}`]));
    } catch (error) {
      if (!isDomainError(error)) throw error;
      errors[block] = error.message.slice(0, 150);
    }
  };
  one('hard', text('hard'));
  one('soft', text('soft'));
  one('thresholds', text('thresholds'));
  one('webhook', text('webhook'));
  const channel = values.channel?.value?.selected_conversation ?? null;
  one('channel', channel ?? '');
  const notify = (values.notify?.value?.selected_options ?? []).map((o) => o.value as NotifyKind);
  settings.notify = notify.length ? notify : null;
  if (notify.includes('webhook') && !settings.webhookUrl) errors.webhook = 'Give an https URL, or untick Webhook.';
  return Object.keys(errors).length ? { errors } : { settings };
}

export function registerLimits(app: App, deps: SlackDeps) {
  app.command('/limits', async ({ command, ack, respond, client }) => {
    await ack();
    let message: Message;
    try {
      const tokens = tokenize(command.text ?? '');
      const actor = await actorFor(deps, client, command.team_id, command.user_id);
      if ((tokens[0] ?? '').toLowerCase() === 'edit') {
        const name = tokens[1];
        if (!name) message = note('Which project? `/limits edit <project>`.');
        else {
          await deps.services.projects.require(actor, name, 'limits.manage');
          const view = await deps.services.limits.show(actor, name);
          const modal = withCodeField(limitsEditModal(view, JSON.stringify({ r: command.response_url, p: view.name })), await stepUpNeed(deps, actor));
          await client.views.open({ trigger_id: command.trigger_id, view: modal });
          return;
        }
      } else {
        const [sub, target, ...words] = tokens;
        if (sub?.toLowerCase() === 'set' && target) {
          // The service refuses first (permission, settings), then asks enrolled users for a code.
          const g = { kind: 'limits.set' as const, args: { target, words: JSON.stringify(words) }, title: 'Change limits', text: `Change the limits of *${esc(clip(target))}*: \`${esc(clip(words.join(' '), 200))}\`?`, triggerId: command.trigger_id, responseUrl: command.response_url };
          const answer = await runSensitive(client, g, () => limitsCommand(deps, actor, tokens));
          if (!answer) return;
          message = answer;
        } else message = await limitsCommand(deps, actor, tokens);
      }
    } catch (error) {
      message = explain(error, deps.logger, '/limits');
    }
    await reply(respond, message, deps.logger);
  });

  app.view(LIMITS_EDIT_CALLBACK, async ({ ack, body, view, client }) => {
    const parsed = settingsFromModal(view.state.values as Values);
    if (parsed.errors) return void (await ack({ response_action: 'errors', errors: parsed.errors }));
    let actor: Actor;
    let proof: StepUpProof | null;
    try {
      actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      const checked = await checkStepUp(deps, actor, view.state.values as never, 'limits.set');
      if (checked.refused) return void (await ack(checked.refused));
      proof = checked.proof;
    } catch (error) {
      // Fail closed: a step-up that could not be checked saves nothing.
      return void (await ack({ response_action: 'update', view: infoModal('Not saved', explain(error, deps.logger, 'limits step-up').text) }));
    }
    await ack();
    const meta = decodeMeta(view.private_metadata) as { r?: string; p?: string };
    let message: Message;
    try {
      const v = await deps.services.limits.set(actor, meta.p ?? '', parsed.settings!, proof);
      message = { ...limitDetail(v), text: `Saved. ${limitDetail(v).text}` };
    } catch (error) {
      message = explain(error, deps.logger, 'limits modal');
    }
    await replyTo(meta.r, message, deps.logger);
  });
}
