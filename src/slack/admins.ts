import { AsyncLocalStorage } from 'node:async_hooks';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { isSlackAdminOf, type SlackUserInfo } from '../domain/tenancy.js';

/** How long Slack's answer to "is this a workspace admin/owner?" is trusted. */
export const ADMIN_CACHE_MS = 60 * 60_000;
/** While users.info fails, a cached "admin" is trusted at most this long; then admin rights are withheld. */
export const ADMIN_STALE_MAX_MS = 24 * 60 * 60_000;

export const UNCONFIRMED_ADMIN =
  'keyward cannot confirm your admin status with Slack right now (users.info keeps failing), so organisation-admin ' +
  'actions are refused until Slack answers again. Try again later, or ask someone listed in KEYWARD_ADMINS.';

/**
 * Per Slack request (see app.ts): set when an org admin's status could not be confirmed, so every
 * refusal of that request can say why instead of a bare "only organisation admins".
 */
export const adminCheckOfRequest = new AsyncLocalStorage<{ unconfirmed: boolean }>();

/**
 * Org admin = listed in KEYWARD_ADMINS, or a Slack workspace admin/owner (users.info, cached 1 h in
 * SlackUser). When users.info fails the last answer stands for up to 24 h; an older "admin" fails
 * closed. Every call also records the user's last activity for later access reviews.
 */
export class AdminResolver {
  constructor(
    private readonly db: Db,
    private readonly configured: readonly string[],
    private readonly logger: Logger,
    private readonly now: () => Date,
  ) {}

  /** `tenant`: the org's Slack team or enterprise id; Slack's admin flags count only for its users. */
  async isOrgAdmin(client: WebClient, orgId: string, userId: string, tenant: string): Promise<boolean> {
    const now = this.now();
    const where = { orgId_userId: { orgId, userId } };
    if (this.configured.includes(userId)) {
      await this.save(orgId, userId, { lastSeenAt: now });
      return true;
    }
    const cached = await this.db.slackUser.findUnique({ where });
    if (cached?.adminCheckedAt && now.getTime() - cached.adminCheckedAt.getTime() < ADMIN_CACHE_MS) {
      await this.db.slackUser.update({ where, data: { lastSeenAt: now } });
      return cached.isWorkspaceAdmin;
    }
    let isAdmin: boolean;
    try {
      const info = await client.users.info({ user: userId });
      isAdmin = isSlackAdminOf(info.user as SlackUserInfo | undefined, tenant);
    } catch (error) {
      // Slack unreachable: keep a recent answer (or "not admin") and ask again next time.
      await this.save(orgId, userId, { lastSeenAt: now });
      const age = cached?.adminCheckedAt ? now.getTime() - cached.adminCheckedAt.getTime() : Infinity;
      if (cached?.isWorkspaceAdmin && age >= ADMIN_STALE_MAX_MS) {
        this.logger.warn({ userId, err: (error as Error).message, checkedAt: cached.adminCheckedAt }, 'users.info failed; cached admin status too old, admin rights withheld');
        const request = adminCheckOfRequest.getStore();
        if (request) request.unconfirmed = true;
        return false;
      }
      this.logger.warn({ userId, err: (error as Error).message }, 'users.info failed; using cached admin status');
      return cached?.isWorkspaceAdmin ?? false;
    }
    await this.save(orgId, userId, { isWorkspaceAdmin: isAdmin, adminCheckedAt: now, lastSeenAt: now });
    return isAdmin;
  }

  /** Known org admins: KEYWARD_ADMINS plus users Slack said are workspace admins (cached). For
   *  fallback approvers/reviewers and the admins' summaries. */
  async list(orgId: string): Promise<string[]> {
    const cached = await this.db.slackUser.findMany({ where: { orgId, isWorkspaceAdmin: true }, select: { userId: true } });
    return [...new Set([...this.configured, ...cached.map((u) => u.userId)])];
  }

  /** Upsert that tolerates a concurrent first insert of the same user. */
  private async save(orgId: string, userId: string, data: { lastSeenAt: Date; isWorkspaceAdmin?: boolean; adminCheckedAt?: Date }) {
    const where = { orgId_userId: { orgId, userId } };
    try {
      await this.db.slackUser.upsert({ where, create: { orgId, userId, ...data }, update: data });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await this.db.slackUser.update({ where, data });
    }
  }
}
