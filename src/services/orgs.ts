import type { Db } from '../db/client.js';
import { invalid } from '../domain/errors.js';
import { newId } from '../domain/random.js';

/**
 * The organisation of a Slack team. An org made by the CLI before Slack was connected has no team
 * yet: the first team to arrive claims it, so single-workspace installs need no setup step.
 */
export async function orgForTeam(db: Db, teamId: string, now: Date, name?: string): Promise<string> {
  const existing = await db.org.findUnique({ where: { slackTeamId: teamId } });
  if (existing) return existing.id;
  const unclaimed = await db.org.findMany({ where: { slackTeamId: null }, take: 2 });
  if (unclaimed.length === 1 && (await db.org.count()) === 1) {
    const claimed = await db.org.updateMany({
      where: { id: unclaimed[0]!.id, slackTeamId: null },
      data: { slackTeamId: teamId, name: name ?? null },
    });
    if (claimed.count === 1) return unclaimed[0]!.id;
  }
  try {
    const org = await db.org.create({ data: { id: newId('org'), slackTeamId: teamId, name: name ?? null, createdAt: now } });
    return org.id;
  } catch {
    // Another process created it first.
    return (await db.org.findUniqueOrThrow({ where: { slackTeamId: teamId } })).id;
  }
}

/** The org the CLI acts on: `--org <team id or org id>`, else the only one, else a new one. */
export async function orgForCli(db: Db, now: Date, wanted?: string): Promise<string> {
  if (wanted) {
    const org = await db.org.findFirst({ where: { OR: [{ id: wanted }, { slackTeamId: wanted }] } });
    if (!org) throw invalid(`No organisation "${wanted}". Run \`keyward orgs\` to list them.`);
    return org.id;
  }
  const orgs = await db.org.findMany({ take: 2, orderBy: { createdAt: 'asc' } });
  if (orgs.length === 1) return orgs[0]!.id;
  if (orgs.length > 1) {
    throw invalid('Several Slack workspaces use this database: pass --org <team id> (see `keyward orgs`).');
  }
  try {
    // A fixed id: two CLI runs racing on an empty database create one org, not two.
    return (await db.org.create({ data: { id: 'org_local', createdAt: now } })).id;
  } catch {
    return (await db.org.findFirstOrThrow({ orderBy: { createdAt: 'asc' } })).id;
  }
}
