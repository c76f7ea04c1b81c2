import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { AddressRange } from '../domain/addresses.js';

/** Who acts. `id` is what the audit log shows (`slack:U123`, `cli:alice`, `system`). */
export interface Actor {
  id: string;
  orgId: string;
  /** Slack user id when the actor is a person in Slack; the CLI acts as an org admin without one. */
  userId: string | null;
  orgAdmin: boolean;
}

export interface ServiceDeps {
  db: Db;
  /** KEYWARD_SECRET: keys secret hashes and derives encryption keys. */
  secret: string;
  logger: Logger;
  now?: () => Date;
  /** Org time zone (KEYWARD_TIMEZONE) for calendar-month limits and usage; default UTC. */
  timezone?: string;
  /** KEYWARD_REQUIRE_2FA: sensitive actions need a TOTP code from everyone. */
  require2fa?: boolean;
  /** KEYWARD_APPROVAL_TTL_HOURS in ms: how long a key request waits for a decision (default 24 h). */
  approvalTtlMs?: number;
  /** KEYWARD_WEBHOOK_ALLOW_PRIVATE: private ranges webhooks may reach (none by default). */
  webhookAllowPrivate?: readonly AddressRange[];
}

/** The service clock: `deps.now` when a test or job pins time, else the wall clock. */
export const nowOf = (deps: Pick<ServiceDeps, 'now'>): Date => deps.now?.() ?? new Date();
/** The org time zone calendar periods are cut in; UTC when unset. */
export const tzOf = (deps: Pick<ServiceDeps, 'timezone'>): string => deps.timezone ?? 'UTC';

export const slackActor = (orgId: string, userId: string, orgAdmin: boolean): Actor => ({
  id: `slack:${userId}`,
  orgId,
  userId,
  orgAdmin,
});

export const cliActor = (orgId: string, osUser: string): Actor => ({
  id: `cli:${osUser}`,
  orgId,
  userId: null,
  orgAdmin: true,
});

export const systemActor = (orgId: string): Actor => ({ id: 'system', orgId, userId: null, orgAdmin: true });
