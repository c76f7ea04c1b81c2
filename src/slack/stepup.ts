/**
 * TOTP step-up for sensitive Slack actions. The list of actions and when they apply is
 * domain/stepup.ts; the services enforce it (TotpService.guard), so Slack only has to ask:
 * - `runSensitive(...)` runs a slash command's action; when the service answers StepUpRequired
 *   (the user has 2FA and gave no code) it opens a confirm modal with the code field instead.
 * - The modal's submission checks the code (wrong → field error, nothing done) and runs the action
 *   registered under the same kind with `sensitiveAction(kind, run)`, handing it the proof.
 * - `withCodeField(view, need)` / `checkStepUp(...)` do the same for modals a handler already opens;
 *   the handler passes the proof on to the service.
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { isDomainError } from '../domain/errors.js';
import { isStepUpAction, StepUpRequired, type StepUpAction } from '../domain/stepup.js';
import { ENROLL_FIRST_MESSAGE, type StepUp } from '../domain/totp.js';
import { forbidden } from '../domain/errors.js';
import type { Actor } from '../services/index.js';
import type { StepUpProof } from '../services/totp.js';
import { actorFor, explain, replyTo, type SlackDeps } from './context.js';
import { plain, quoted, section, type Message, type ModalView } from './views/common.js';
import { infoModal } from './views/secrets.js';
import { totpFromState, totpInput, TOTP_BLOCK } from './views/twofactor.js';

export const STEPUP_CALLBACK = 'keyward_stepup_confirm';

export type SensitiveRun = (ctx: { deps: SlackDeps; client: WebClient; actor: Actor; proof: StepUpProof | null }, args: Record<string, string>) => Promise<Message>;
const actions = new Map<StepUpAction, SensitiveRun>();

/** Registers what a confirmed step-up modal of `kind` does. */
export function sensitiveAction(kind: StepUpAction, run: SensitiveRun) {
  actions.set(kind, run);
}

/** What the actor must do before a sensitive action; 'enroll' is refused here with the how-to. */
export async function stepUpNeed(deps: SlackDeps, actor: Actor): Promise<Exclude<StepUp, 'enroll'>> {
  const need = await deps.services.totp.requirement(actor);
  if (need === 'enroll') throw forbidden(ENROLL_FIRST_MESSAGE);
  return need;
}

/** Adds the code field to a modal when the actor must step up (`optional`: only some choices need it). */
export const withCodeField = (view: ModalView, need: StepUp, optional?: { hint: string }): ModalView =>
  need === 'code' ? { ...view, blocks: [...view.blocks, optional ? { ...totpInput(optional.hint), optional: true } as typeof view.blocks[number] : totpInput()] } : view;

type Refusal = { response_action: 'errors'; errors: Record<string, string> } | { response_action: 'update'; view: ModalView };

/**
 * Checks the step-up of a submitted modal. `proof` (null when no code was needed) goes to the
 * service; `refused` is the `ack` payload: an error under the code field, or (no field in this
 * modal) an explanation.
 */
export async function checkStepUp(
  deps: SlackDeps,
  actor: Actor,
  values: Record<string, Record<string, { value?: string | null }>>,
  action: StepUpAction,
): Promise<{ proof: StepUpProof | null; refused?: undefined } | { refused: Refusal }> {
  try {
    return { proof: await deps.services.totp.prove(actor, totpFromState(values), action) };
  } catch (error) {
    const message = explain(error, deps.logger, 'step-up').text;
    if (isDomainError(error) && values[TOTP_BLOCK]) return { refused: { response_action: 'errors', errors: { [TOTP_BLOCK]: message } } };
    return { refused: { response_action: 'update', view: infoModal('Two-factor', message) } };
  }
}

export interface GuardInput {
  /** The step-up action (domain/stepup.ts), also the registered kind the modal runs. */
  kind: StepUpAction;
  args: Record<string, string>;
  /** Modal title (≤ 24) and what will happen, in mrkdwn (user text already escaped). */
  title: string;
  text: string;
  triggerId: string;
  responseUrl?: string;
}

async function openConfirm(client: WebClient, g: GuardInput) {
  const view: ModalView = {
    type: 'modal',
    callback_id: STEPUP_CALLBACK,
    private_metadata: JSON.stringify({ k: g.kind, a: g.args, r: g.responseUrl }),
    title: plain(g.title, 24),
    submit: plain('Confirm', 24),
    close: plain('Cancel', 24),
    blocks: [section(g.text), totpInput()],
  };
  await client.views.open({ trigger_id: g.triggerId, view });
}

/**
 * Runs a sensitive action through its service (which enforces the step-up). When the service asks
 * for a code, opens the confirm modal instead and returns null (the modal answers later).
 */
export async function runSensitive(client: WebClient, g: GuardInput, act: () => Promise<Message>): Promise<Message | null> {
  try {
    return await act();
  } catch (error) {
    if (!(error instanceof StepUpRequired)) throw error;
    await openConfirm(client, g);
    return null;
  }
}

export function registerStepUp(app: App, deps: SlackDeps) {
  app.view(STEPUP_CALLBACK, async ({ ack, body, view, client }) => {
    let meta: { k?: string; a?: Record<string, string>; r?: string };
    try {
      meta = JSON.parse(view.private_metadata || '{}');
    } catch {
      meta = {};
    }
    const kind = meta.k && isStepUpAction(meta.k) ? meta.k : null;
    const run = kind ? actions.get(kind) : undefined;
    let actor: Actor;
    let proof: StepUpProof | null;
    try {
      if (!kind || !run) throw forbidden('This confirmation is no longer valid. Run the command again.');
      actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      const checked = await checkStepUp(deps, actor, view.state.values as never, kind);
      if (checked.refused) return void (await ack(checked.refused));
      proof = checked.proof;
    } catch (error) {
      return void (await ack({ response_action: 'update', view: infoModal('Not done', explain(error, deps.logger, 'step-up').text) }));
    }
    await ack();
    let message: Message;
    try {
      message = await run({ deps, client, actor, proof }, meta.a ?? {});
    } catch (error) {
      message = explain(error, deps.logger, `step-up ${meta.k}`);
    }
    await replyTo(meta.r, message, deps.logger);
  });
}

/** "Archive *x*?" style text with the user's words escaped. */
export const confirmText = (what: string, detail = '') => `${what}${detail ? `\n${quoted(detail)}` : ''}\nEnter a current code from your authenticator app to confirm.`;
