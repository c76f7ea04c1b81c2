import type { App } from '@slack/bolt';
import { isDomainError } from '../../domain/errors.js';
import { DAY } from '../../domain/durations.js';
import { parseEnvironment, parseKeyName, parseScope } from '../../domain/keys.js';
import { DuplicateRequest } from '../../services/idempotency.js';
import type { Actor } from '../../services/index.js';
import { actorFor, APOLOGY, describeError, explain, replyTo, seenBefore, type SlackDeps } from '../context.js';
import { deliverSecret } from '../delivery.js';
import { deliveryFailed, keyCreated, keyRevoked } from '../views/keys.js';
import { CREATE_KEY_CALLBACK, decodeMeta, REVOKE_KEY_CALLBACK } from '../views/modals.js';
import { infoModal } from '../views/secrets.js';
import { checkStepUp } from '../stepup.js';
import { StepUpRequired } from '../../domain/stepup.js';
import type { StepUpProof } from '../../services/totp.js';
import { totpFromState, TOTP_BLOCK } from '../views/twofactor.js';
import { announceRequest } from './approvals.js';

type Values = Record<string, Record<string, { value?: string | null; selected_option?: { value: string } | null }>>;

const field = (values: Values, block: string) => {
  const v = values[block]?.value;
  return (v?.selected_option?.value ?? v?.value ?? '').trim();
};

export function registerModals(app: App, deps: SlackDeps) {
  app.view(CREATE_KEY_CALLBACK, async ({ ack, body, view, client }) => {
    const values = view.state.values as Values;
    const meta = decodeMeta(view.private_metadata);
    const errors: Record<string, string> = {};
    const rawName = field(values, 'name');
    const project = field(values, 'project');
    const rawExpires = field(values, 'expires');
    let name = '';
    try {
      name = parseKeyName(rawName);
    } catch (error) {
      errors.name = (error as Error).message;
    }
    if (!project) errors.project = 'Choose a project.';
    const days = rawExpires === '' ? null : Number(rawExpires);
    if (days !== null && !(Number.isInteger(days) && days >= 1 && days <= 3650)) errors.expires = 'A whole number of days from 1 to 3650, or empty.';
    if (Object.keys(errors).length) return void (await ack({ response_action: 'errors', errors }));

    const requestId = `slack:view:${view.id}`;
    let actor: Actor;
    let created: Awaited<ReturnType<SlackDeps['services']['keys']['create']>>;
    try {
      actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      await seenBefore(deps, requestId);
      const environment = parseEnvironment(field(values, 'env') || 'dev');
      // A typed code is checked (and spent) only for prod keys; the service decides whether it was needed.
      let proof: StepUpProof | null = null;
      if (environment === 'prod' && totpFromState(values as never)?.trim()) {
        const checked = await checkStepUp(deps, actor, values as never, 'key.create');
        if (checked.refused) return void (await ack(checked.refused));
        proof = checked.proof;
      }
      const result = await deps.services.approvals.createOrRequest(actor, {
        project, name, requestId, environment,
        scope: parseScope(field(values, 'scope') || 'inference'),
        ...(days ? { expiresInMs: days * DAY } : {}),
      }, await deps.admins.list(actor.orgId), proof);
      if (result.kind === 'requested') {
        await ack();
        return replyTo(meta.r, await announceRequest(deps, client, result), deps.logger);
      }
      created = result.created;
    } catch (error) {
      if (error instanceof DuplicateRequest) {
        await ack();
        return replyTo(meta.r, explain(error, deps.logger, 'create modal'), deps.logger);
      }
      if (error instanceof StepUpRequired) {
        const message = 'A prod key without approval needs a code from your authenticator app.';
        if (values[TOTP_BLOCK]) return void (await ack({ response_action: 'errors', errors: { [TOTP_BLOCK]: message } }));
        return void (await ack({ response_action: 'update', view: infoModal('Not created', `${message} Run \`/keys create\` again.`) }));
      }
      if (isDomainError(error)) {
        const target = error.code === 'conflict' || (error.code === 'invalid' && /name/i.test(error.message)) ? 'name' : 'project';
        return void (await ack({ response_action: 'errors', errors: { [target]: error.message } }));
      }
      deps.logger.error({ error: describeError(error) }, 'create-key modal failed');
      return void (await ack({ response_action: 'update', view: infoModal('Something went wrong', APOLOGY) }));
    }
    await ack();
    try {
      const key = { ...created.key, projectName: created.projectName };
      const outcome = await deliverSecret(deps.services, client, actor, { key, secret: created.secret, kind: 'created' });
      await replyTo(meta.r, outcome.delivered ? keyCreated(key) : deliveryFailed(key.id, outcome.undone), deps.logger);
    } catch (error) {
      await replyTo(meta.r, explain(error, deps.logger, 'create modal delivery'), deps.logger);
    }
  });

  app.view(REVOKE_KEY_CALLBACK, async ({ ack, body, view, client }) => {
    const meta = decodeMeta(view.private_metadata);
    const reason = field(view.state.values as Values, 'reason');
    const requestId = `slack:view:${view.id}`;
    let revoked: Awaited<ReturnType<SlackDeps['services']['keys']['revoke']>>;
    try {
      const actor = await actorFor(deps, client, body.team?.id ?? undefined, body.user.id);
      await seenBefore(deps, requestId);
      // Revoking a prod key needs a fresh code from enrolled users (all users with KEYWARD_REQUIRE_2FA);
      // the service checks the proof.
      let proof: StepUpProof | null = null;
      if ((await deps.services.keys.get(actor, meta.k ?? '')).key.environment === 'prod') {
        const checked = await checkStepUp(deps, actor, view.state.values as never, 'key.revoke');
        if (checked.refused) return void (await ack(checked.refused));
        proof = checked.proof;
      }
      revoked = await deps.services.keys.revoke(actor, meta.k ?? '', reason, requestId, proof);
    } catch (error) {
      if (error instanceof DuplicateRequest) {
        await ack();
        return replyTo(meta.r, explain(error, deps.logger, 'revoke modal'), deps.logger);
      }
      const message = explain(error, deps.logger, 'revoke modal');
      return void (await ack({ response_action: 'update', view: infoModal(isDomainError(error) ? 'Not revoked' : 'Something went wrong', message.text) }));
    }
    await ack();
    await replyTo(meta.r, keyRevoked(revoked), deps.logger);
  });
}
