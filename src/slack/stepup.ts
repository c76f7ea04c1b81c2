/**
 * TOTP step-up for sensitive Slack actions, reusable by any handler:
 * - `guardSensitive(...)` before a slash command acts: returns false when no code is needed (act
 *   now); opens a confirm modal with the code field and returns true when one is; throws "enroll
 *   first" when 2FA is required and the user has none.
 * - The modal's submission checks the code (wrong → field error, nothing done) and runs the action
 *   registered under the same kind with `sensitiveAction(kind, run)`.
 * - `withCodeField(view, need)` / `stepUpErrors(...)` do the same for modals a handler already opens.
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { isDomainError } from '../domain/errors.js';
import { ENROLL_FIRST_MESSAGE, type StepUp } from '../domain/totp.js';
import { forbidden } from '../domain/errors.js';
import type { Actor } from '../services/index.js';
import { actorFor, explain, replyTo, type SlackDeps } from './context.js';
import { plain, quoted, section, type Message, type ModalView } from './views/common.js';
import { infoModal } from './views/secrets.js';
import { totpFromState, totpInput, TOTP_BLOCK } from './views/twofactor.js';

export const STEPUP_CALLBACK = 'keyward_stepup_confirm';

export type SensitiveRun = (ctx: { deps: SlackDeps; client: WebClient; actor: Actor }, args: Record<string, string>) => Promise<Message>;
const actions = new Map<string, SensitiveRun>();

/** Registers what a confirmed step-up modal of `kind` does (e.g. 'project.archive'). */
export function sensitiveAction(kind: string, run: SensitiveRun) {
  actions.set(kind, run);
}

/** What the actor must do before a sensitive action; 'enroll' is refused here with the how-to. */
export async function stepUpNeed(deps: SlackDeps, actor: Actor): Promise<Exclude<StepUp, 'enroll'>> {
  const need = await deps.services.totp.requirement(actor);
  if (need === 'enroll') throw forbidden(ENROLL_FIRST_MESSAGE);
  return need;
}

/** Adds the code field to a modal when the actor must step up. */
export const withCodeField = (view: ModalView, need: StepUp): ModalView =>
  need === 'code' ? { ...view, blocks: [...view.blocks, totpInput()] } : view;

/**
 * Checks the step-up of a submitted modal. Returns null when the action may proceed, else the
 * `ack` payload: an error under the code field, or (no field in this modal) an explanation.
 */
export async function stepUpErrors(
  deps: SlackDeps,
  actor: Actor,
  values: Record<string, Record<string, { value?: string | null }>>,
  purpose: string,
): Promise<null | { response_action: 'errors'; errors: Record<string, string> } | { response_action: 'update'; view: ModalView }> {
  try {
    await deps.services.totp.stepUp(actor, totpFromState(values), purpose);
    return null;
  } catch (error) {
    const message = explain(error, deps.logger, 'step-up').text;
    if (isDomainError(error) && values[TOTP_BLOCK]) return { response_action: 'errors', errors: { [TOTP_BLOCK]: message } };
    return { response_action: 'update', view: infoModal('Two-factor', message) };
  }
}

export interface GuardInput {
  kind: string;
  args: Record<string, string>;
  /** Modal title (≤ 24) and what will happen, in mrkdwn (user text already escaped). */
  title: string;
  text: string;
  triggerId: string;
  responseUrl?: string;
}

/** See the file comment. Returns true when a modal took over (the caller replies nothing). */
export async function guardSensitive(deps: SlackDeps, client: WebClient, actor: Actor, g: GuardInput): Promise<boolean> {
  if ((await stepUpNeed(deps, actor)) === 'none') return false;
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
  return true;
}

export function registerStepUp(app: App, deps: SlackDeps) {
  app.view(STEPUP_CALLBACK, async ({ ack, body, view, client }) => {
    let meta: { k?: string; a?: Record<string, string>; r?: string };
    try {
      meta = JSON.parse(view.private_metadata || '{}');
    } catch {
      meta = {};
    }
    const run = actions.get(meta.k ?? '');
    let actor: Actor;
    try {
      if (!run) throw forbidden('This confirmation is no longer valid. Run the command again.');
      actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      const refused = await stepUpErrors(deps, actor, view.state.values as never, meta.k!);
      if (refused) return void (await ack(refused));
    } catch (error) {
      return void (await ack({ response_action: 'update', view: infoModal('Not done', explain(error, deps.logger, 'step-up').text) }));
    }
    await ack();
    let message: Message;
    try {
      message = await run({ deps, client, actor }, meta.a ?? {});
    } catch (error) {
      message = explain(error, deps.logger, `step-up ${meta.k}`);
    }
    await replyTo(meta.r, message, deps.logger);
  });
}

/** "Archive *x*?" style text with the user's words escaped. */
export const confirmText = (what: string, detail = '') => `${what}${detail ? `\n${quoted(detail)}` : ''}\nEnter a current code from your authenticator app to confirm.`;
