/** What every listener shares: who is asking, how answers go out, how failures are explained. */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { isDomainError } from '../domain/errors.js';
import { scrubText } from '../logger.js';
import { slackActor, type Actor, type Services } from '../services/index.js';
import { DuplicateRequest, firstResult } from '../services/idempotency.js';
import { orgForTeam } from '../services/orgs.js';
import { adminCheckOfRequest, UNCONFIRMED_ADMIN, type AdminResolver } from './admins.js';
import { note, type Message } from './views/common.js';
import { alreadyHandled } from './views/keys.js';

export interface SlackDeps {
  services: Services;
  logger: Logger;
  admins: AdminResolver;
  now: () => Date;
}

/** The tenant (Org.slackTeamId) of the Slack request being handled, set by the workspace gate in app.ts. */
const requestTenant = new AsyncLocalStorage<string>();
export const withTenant = <T>(tenant: string, fn: () => Promise<T>) => requestTenant.run(tenant, fn);

/**
 * The acting user's org comes from the workspace gate (the request's team, or its enterprise for
 * an org-wide install), never from a team id alone: outside the gate nothing resolves. `_teamId`
 * is the request's own team id, kept for the listeners' call sites.
 */
export async function actorFor(deps: SlackDeps, client: WebClient, _teamId: string | undefined, userId: string): Promise<Actor> {
  const tenant = requestTenant.getStore();
  if (!tenant) throw new Error('Slack request that did not pass the workspace gate');
  const orgId = await orgForTeam(deps.services.deps.db, tenant, deps.now());
  return slackActor(orgId, userId, await deps.admins.isOrgAdmin(client, orgId, userId, tenant));
}

export const APOLOGY = 'Sorry, something went wrong on our side and nothing was changed. Please try again; if it keeps happening, tell your keyward admin.';

/** Error text for logs: key and token shapes masked. */
export const describeError = (error: unknown) =>
  scrubText(error instanceof Error ? `${error.name}: ${error.message}${error.stack ? `\n${error.stack}` : ''}` : String(error));

/** DomainError → its message; a repeated request → what the first one did; anything else → apology + log. */
export function explain(error: unknown, logger: Logger, where: string): Message {
  if (isDomainError(error)) {
    // An org admin whose status Slack cannot confirm is refused as a member; say why.
    const unconfirmed = adminCheckOfRequest.getStore()?.unconfirmed && (error.code === 'forbidden' || error.code === 'not_found');
    return note(unconfirmed ? `${error.message}\n${UNCONFIRMED_ADMIN}` : error.message);
  }
  if (error instanceof DuplicateRequest) return alreadyHandled(error.result.keyId as string | undefined, 'key');
  logger.error({ where, error: describeError(error) }, 'slack handler failed');
  return note(APOLOGY);
}

/** Has this Slack request (trigger, view, click) been acted on already? Checked first so a retry
 *  gets "already done" instead of a confusing conflict. */
export async function seenBefore(deps: SlackDeps, requestId: string): Promise<void> {
  const first = await firstResult(deps.services.deps.db, requestId);
  if (first) throw new DuplicateRequest(first);
}

/** Ephemeral answer through Bolt's respond(); failures are logged, never thrown. */
export async function reply(respond: RespondFn, message: Message, logger: Logger, replaceOriginal = false): Promise<void> {
  try {
    await respond({ response_type: 'ephemeral', replace_original: replaceOriginal, ...message });
  } catch (error) {
    logger.warn({ error: describeError(error) }, 'could not answer through response_url');
  }
}

/** Posts to a response_url kept in a modal's private_metadata (views have no respond()). */
export async function replyTo(url: string | undefined, message: Message, logger: Logger): Promise<void> {
  if (!url) return;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, ...message }),
    });
    if (!res.ok) logger.warn({ status: res.status }, 'response_url answered with an error');
  } catch (error) {
    logger.warn({ error: describeError(error) }, 'could not post to response_url');
  }
}
