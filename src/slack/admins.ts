import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { isSlackAdminOf, type SlackUserInfo } from '../domain/tenancy.js';
import { isUniqueViolation } from '../services/projects.js';

/** How long Slack's answer to "is this a workspace admin/owner?" is trusted. */
export const ADMIN_CACHE_MS = 60 * 60_000;

/**
 * Org admin = listed in KEYWARD_ADMINS, or a Slack workspace admin/owner (users.info, cached 1 h in
 * SlackUser). Every call also records the user's last activity for later access reviews.
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
      // Slack unreachable: keep the last known answer (or "not admin") and ask again next time.
      this.logger.warn({ userId, err: (error as Error).message }, 'users.info failed; using cached admin status');
      await this.save(orgId, userId, { lastSeenAt: now });
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
