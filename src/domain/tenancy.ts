/**
 * Which Slack requests keyward serves, and as which organisation.
 *
 * keyward serves the workspace it is installed in (auth.test at start) plus the team or enterprise
 * ids listed in SLACK_TEAM_IDS; anything else is refused before an org row exists. An org-wide
 * (Enterprise Grid) install serves every workspace of its enterprise as ONE organisation keyed by
 * the enterprise id: one set of projects, limits and admins for the one ANTHROPIC_API_KEY, rather
 * than a tenant per workspace.
 */

export interface Installation {
  teamId: string | null;
  enterpriseId: string | null;
  /** auth.test's is_enterprise_install: installed org-wide across an Enterprise Grid. */
  enterpriseInstall: boolean;
}

export interface RequestOrigin {
  teamId?: string | null;
  enterpriseId?: string | null;
}

/**
 * The tenant key (Org.slackTeamId) a request belongs to, or null to refuse it. An enterprise id
 * (the installed one for an org-wide install, or one listed) maps all its workspaces to one org;
 * a team id (the installed workspace, or one listed) maps to that workspace's org.
 */
export function tenantOf(install: Installation, allowed: readonly string[], origin: RequestOrigin): string | null {
  const { teamId, enterpriseId } = origin;
  if (enterpriseId && ((install.enterpriseInstall && enterpriseId === install.enterpriseId) || allowed.includes(enterpriseId))) return enterpriseId;
  if (teamId && ((!install.enterpriseInstall && teamId === install.teamId) || allowed.includes(teamId))) return teamId;
  return null;
}

/** The parts of Slack's `users.info` user that decide admin status. */
export interface SlackUserInfo {
  team_id?: string;
  is_admin?: boolean;
  is_owner?: boolean;
  is_primary_owner?: boolean;
  enterprise_user?: { enterprise_id?: string; is_admin?: boolean; is_owner?: boolean };
}

/**
 * Whether Slack's answer makes this user an admin of the org keyed `tenant`. A workspace org
 * trusts is_admin/is_owner only for a user of that workspace; an enterprise org trusts only the
 * enterprise's own admins and owners (an admin of one workspace of the Grid is not an admin of
 * everyone's keys). Anything from another team or enterprise is not an admin.
 */
export function isSlackAdminOf(user: SlackUserInfo | undefined, tenant: string): boolean {
  if (!user) return false;
  const e = user.enterprise_user;
  if (e?.enterprise_id === tenant) return Boolean(e.is_admin || e.is_owner);
  if (user.team_id === tenant) return Boolean(user.is_admin || user.is_owner || user.is_primary_owner);
  return false;
}
