import type { Db, Tx } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { conflict, forbidden, invalid, notFound } from '../domain/errors.js';
import { parseDescription, parseProjectName } from '../domain/projects.js';
import { newId } from '../domain/random.js';
import { can, roleLabel, type Action, type Role, type Subject } from '../domain/roles.js';
import { audit } from './audit.js';
import { nowOf, systemActor, type Actor, type ServiceDeps } from './context.js';
import { markKeyChanged } from './key-changes.js';
import type { StepUpEvidence, TotpService } from './totp.js';

export type ProjectRow = Awaited<ReturnType<Db['project']['findFirstOrThrow']>>;

/**
 * Adding an Admin, changing a role, removing a member and archiving take a step-up (`step`: a proof
 * or a code) from users with 2FA; see domain/stepup.ts.
 */
export class ProjectService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly totp: TotpService,
  ) {}

  private now() {
    return nowOf(this.deps);
  }

  /** The actor's standing in a project. */
  async subject(actor: Actor, projectId: string): Promise<Subject> {
    if (actor.orgAdmin) return { orgAdmin: true, role: null };
    if (!actor.userId) return { orgAdmin: false, role: null };
    const m = await this.deps.db.membership.findUnique({
      where: { projectId_userId: { projectId, userId: actor.userId } },
    });
    return { orgAdmin: false, role: (m?.role as Role | undefined) ?? null };
  }

  /**
   * Finds a project by name and checks `action`. Non-members get the same "not found" as for a
   * project that does not exist, so names of other teams' projects do not leak.
   */
  async require(actor: Actor, name: string, action: Action, opts: { allowArchived?: boolean } = {}) {
    const project = await this.deps.db.project.findUnique({
      where: { orgId_name: { orgId: actor.orgId, name: name.trim().toLowerCase() } },
    });
    const subject = project ? await this.subject(actor, project.id) : null;
    if (!project || !subject || !can(subject, 'project.view')) {
      throw notFound(`No project named "${name.slice(0, 60)}" that you can see. \`/project list\` shows yours.`);
    }
    if (project.archivedAt && !opts.allowArchived) throw invalid(`Project "${project.name}" is archived.`);
    if (!can(subject, action)) throw forbidden(refusal(action, project.name));
    return { project, subject };
  }

  async create(actor: Actor, rawName: string, rawDescription = '') {
    if (!actor.orgAdmin) throw forbidden('Only organisation admins can create projects. Ask one of them, or see `/keyward help`.');
    const name = parseProjectName(rawName);
    const description = parseDescription(rawDescription);
    const now = this.now();
    const { db } = this.deps;
    const existing = await db.project.findUnique({ where: { orgId_name: { orgId: actor.orgId, name } } });
    if (existing) throw conflict(`A project named "${name}" already exists${existing.archivedAt ? ' (archived)' : ''}.`);
    try {
      return await db.$transaction(async (tx) => {
        const project = await tx.project.create({
          data: { id: newId('prj'), orgId: actor.orgId, name, description, createdBy: actor.id, createdAt: now },
        });
        if (actor.userId) {
          await tx.membership.create({
            data: { projectId: project.id, userId: actor.userId, role: 'admin', addedBy: actor.id, createdAt: now },
          });
        }
        await audit(tx, actor, now, {
          action: 'project.created', projectId: project.id, targetType: 'project', targetId: project.id,
          details: { name, description },
        });
        return project;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A project named "${name}" already exists.`);
      throw error;
    }
  }

  /** Projects the actor can see (all for org admins), with member and active key counts. */
  async list(actor: Actor, opts: { includeArchived?: boolean } = {}) {
    const { db } = this.deps;
    const projects = await db.project.findMany({
      where: {
        orgId: actor.orgId,
        ...(opts.includeArchived ? {} : { archivedAt: null }),
        ...(actor.orgAdmin ? {} : { members: { some: { userId: actor.userId ?? '-' } } }),
      },
      orderBy: { name: 'asc' },
      include: {
        members: true,
        _count: { select: { keys: { where: { status: 'active' } } } },
      },
    });
    return projects.map((p) => ({
      ...p,
      myRole: (p.members.find((m) => m.userId === actor.userId)?.role as Role | undefined) ?? null,
      memberCount: p.members.length,
      activeKeys: p._count.keys,
    }));
  }

  async show(actor: Actor, name: string) {
    const { project, subject } = await this.require(actor, name, 'project.view', { allowArchived: true });
    const members = await this.deps.db.membership.findMany({
      where: { projectId: project.id },
      orderBy: [{ role: 'asc' }, { createdAt: 'asc' }],
    });
    const activeKeys = await this.deps.db.apiKey.count({ where: { projectId: project.id, status: 'active' } });
    return { project, subject, members, activeKeys };
  }

  async addMember(actor: Actor, name: string, userId: string, role: Role, step?: StepUpEvidence) {
    const { project } = await this.require(actor, name, 'member.manage');
    const now = this.now();
    const { db } = this.deps;
    const existing = await db.membership.findUnique({ where: { projectId_userId: { projectId: project.id, userId } } });
    if (existing) {
      throw conflict(
        `<@${userId}> is already ${article(existing.role)} ${roleLabel(existing.role as Role)} of ${project.name}. ` +
          `Use \`/project role ${project.name} <@${userId}> ${role}\` to change it.`,
      );
    }
    await this.totp.guard(actor, 'member.add', { role }, step);
    try {
      await db.$transaction(async (tx) => {
        await tx.membership.create({ data: { projectId: project.id, userId, role, addedBy: actor.id, createdAt: now } });
        await audit(tx, actor, now, {
          action: 'member.added', projectId: project.id, targetType: 'user', targetId: userId, details: { role },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`<@${userId}> is already a member of ${project.name}.`);
      throw error;
    }
    return { project, userId, role };
  }

  async setRole(actor: Actor, name: string, userId: string, role: Role, step?: StepUpEvidence) {
    const { project } = await this.require(actor, name, 'member.manage');
    const now = this.now();
    const { db } = this.deps;
    const existing = await db.membership.findUnique({ where: { projectId_userId: { projectId: project.id, userId } } });
    if (!existing) {
      throw notFound(`<@${userId}> is not a member of ${project.name}. Add them with \`/project add ${project.name} <@${userId}> ${role}\`.`);
    }
    if (existing.role === role) return { project, userId, role, changed: false, previous: role };
    await this.totp.guard(actor, 'member.role', {}, step);
    await db.$transaction(async (tx) => {
      await lockProject(tx, project);
      await ensureAnotherAdmin(tx, project.id, userId, existing.role, role);
      await tx.membership.update({ where: { projectId_userId: { projectId: project.id, userId } }, data: { role } });
      await audit(tx, actor, now, {
        action: 'member.role_changed', projectId: project.id, targetType: 'user', targetId: userId,
        details: { from: existing.role, to: role },
      });
    });
    return { project, userId, role, changed: true, previous: existing.role as Role };
  }

  /**
   * What removing a member would do, for the confirmation: their active keys in the project and
   * who could take them over (its Admins and Developers). Refusals come here, before anything is asked.
   */
  async removalPreview(actor: Actor, name: string, userId: string) {
    const { project } = await this.require(actor, name, 'member.manage');
    const { db } = this.deps;
    const existing = await db.membership.findUnique({ where: { projectId_userId: { projectId: project.id, userId } } });
    if (!existing) throw notFound(`<@${userId}> is not a member of ${project.name}.`);
    await ensureAnotherAdmin(db, project.id, userId, existing.role, null);
    const keys = await db.apiKey.findMany({ where: { projectId: project.id, ownerId: userId, status: 'active' }, orderBy: { createdAt: 'asc' } });
    const members = await db.membership.findMany({ where: { projectId: project.id, NOT: { userId } } });
    const heirs = members.filter((m) => canOwnKeys(m.role)).map((m) => m.userId);
    return { project, userId, role: existing.role as Role, keys, heirs };
  }

  /**
   * Removes a member. Their active keys in the project are revoked, or with `transferTo` handed to
   * another member who may own keys (Admin or Developer), in the same transaction: nobody keeps
   * working keys in a project they left.
   */
  async removeMember(actor: Actor, name: string, userId: string, opts: { transferTo?: string | null; step?: StepUpEvidence } = {}) {
    const { project } = await this.require(actor, name, 'member.manage');
    const now = this.now();
    const { db } = this.deps;
    const transferTo = opts.transferTo ?? null;
    const existing = await db.membership.findUnique({ where: { projectId_userId: { projectId: project.id, userId } } });
    if (!existing) throw notFound(`<@${userId}> is not a member of ${project.name}.`);
    if (transferTo === userId) throw invalid(`<@${userId}> is the one being removed: transfer their keys to another Admin or Developer of ${project.name}.`);
    await this.totp.guard(actor, 'member.remove', {}, opts.step);
    const keys = await db.$transaction(async (tx) => {
      await lockProject(tx, project);
      await ensureAnotherAdmin(tx, project.id, userId, existing.role, null);
      if (transferTo) {
        const heir = await tx.membership.findUnique({ where: { projectId_userId: { projectId: project.id, userId: transferTo } } });
        if (!heir || !canOwnKeys(heir.role)) {
          throw invalid(`<@${transferTo}> cannot take over keys in ${project.name}: only its Admins and Developers can own keys.`);
        }
      }
      const owned = await tx.apiKey.findMany({ where: { projectId: project.id, ownerId: userId, status: 'active' }, select: { id: true, name: true } });
      if (transferTo) await transferKeys(tx, actor, now, project.id, owned, userId, transferTo);
      else await revokeOwnedKeys(tx, actor, now, project.id, owned, `owner removed from ${project.name}`);
      await tx.membership.delete({ where: { projectId_userId: { projectId: project.id, userId } } });
      await audit(tx, actor, now, {
        action: 'member.removed', projectId: project.id, targetType: 'user', targetId: userId,
        details: { role: existing.role, keys: owned.map((k) => k.id), ...(transferTo ? { transferredTo: transferTo } : { keysRevoked: true }) },
      });
      return owned;
    });
    return {
      project, userId, previous: existing.role as Role, transferTo,
      revokedKeys: transferTo ? [] : keys, transferredKeys: transferTo ? keys : [],
    };
  }

  /**
   * A Slack user was deactivated or left the workspace: every active key they own in the org is
   * revoked and every membership removed, project by project. Repeating it changes nothing (Slack
   * retries, or both events arriving). The last Admin of a project is removed too (a deactivated
   * account can manage nothing): such projects are reported as `withoutAdmin` for org admins, who
   * can always manage them. Null when the team is not a keyward org.
   */
  async offboard(teamId: string, userId: string, reason: 'deactivated' | 'left') {
    const { db } = this.deps;
    const org = await db.org.findUnique({ where: { slackTeamId: teamId } });
    if (!org) return null;
    const actor = systemActor(org.id);
    const now = this.now();
    const memberships = await db.membership.findMany({ where: { userId, project: { orgId: org.id } } });
    const keyed = await db.apiKey.findMany({ where: { orgId: org.id, ownerId: userId, status: 'active' }, select: { projectId: true } });
    const projectIds = [...new Set([...memberships.map((m) => m.projectId), ...keyed.map((k) => k.projectId)])];
    const changed = [];
    for (const projectId of projectIds) {
      const result = await db.$transaction(async (tx) => {
        const project = await lockProject(tx, await tx.project.findUniqueOrThrow({ where: { id: projectId } }));
        const membership = await tx.membership.findUnique({ where: { projectId_userId: { projectId, userId } } });
        const owned = await tx.apiKey.findMany({ where: { projectId, ownerId: userId, status: 'active' }, select: { id: true, name: true } });
        if (!membership && owned.length === 0) return null; // done by an earlier delivery
        await revokeOwnedKeys(tx, actor, now, projectId, owned, `owner ${reason === 'left' ? 'left' : 'was deactivated in'} Slack`);
        let withoutAdmin = false;
        if (membership) {
          await tx.membership.delete({ where: { projectId_userId: { projectId, userId } } });
          withoutAdmin = membership.role === 'admin' && (await tx.membership.count({ where: { projectId, role: 'admin' } })) === 0;
          await audit(tx, actor, now, {
            action: 'member.removed', projectId, targetType: 'user', targetId: userId,
            details: { role: membership.role, keys: owned.map((k) => k.id), keysRevoked: true, reason: `slack user ${reason}`, withoutAdmin },
          });
        }
        const admins = (await tx.membership.findMany({ where: { projectId, role: 'admin' } })).map((m) => m.userId);
        return { projectId, projectName: project.name, role: (membership?.role as Role | undefined) ?? null, revokedKeys: owned, withoutAdmin, admins };
      });
      if (result) changed.push(result);
    }
    return { orgId: org.id, userId, reason, projects: changed };
  }

  async setChannel(actor: Actor, name: string, channelId: string) {
    const { project } = await this.require(actor, name, 'project.settings');
    const now = this.now();
    await this.deps.db.$transaction(async (tx) => {
      await tx.project.update({ where: { id: project.id }, data: { alertChannelId: channelId } });
      await audit(tx, actor, now, {
        action: 'project.channel_set', projectId: project.id, targetType: 'project', targetId: project.id,
        details: { channel: channelId, previous: project.alertChannelId },
      });
    });
    return { ...project, alertChannelId: channelId };
  }

  /** Archiving revokes the project's active keys (as archiving an Anthropic workspace does). */
  async archive(actor: Actor, name: string, step?: StepUpEvidence) {
    if (!actor.orgAdmin) throw forbidden('Only organisation admins can archive projects.');
    const { project } = await this.require(actor, name, 'project.archive', { allowArchived: true });
    if (project.archivedAt) throw conflict(`Project "${project.name}" is already archived.`);
    await this.totp.guard(actor, 'project.archive', {}, step);
    const now = this.now();
    const revoked = await this.deps.db.$transaction(async (tx) => {
      // Archive (and lock the project row) first: a key created concurrently either commits before
      // and is revoked below, or waits and sees the project archived.
      const archived = await tx.project.updateMany({ where: { id: project.id, archivedAt: null }, data: { archivedAt: now } });
      if (archived.count === 0) throw conflict(`Project "${project.name}" is already archived.`);
      const keys = await tx.apiKey.findMany({ where: { projectId: project.id, status: 'active' }, select: { id: true } });
      await tx.apiKey.updateMany({
        where: { projectId: project.id, status: 'active' },
        data: { status: 'revoked', revokedAt: now, revokedBy: actor.id, revokeReason: 'project archived' },
      });
      for (const k of keys) await markKeyChanged(tx, k.id, now);
      await audit(tx, actor, now, {
        action: 'project.archived', projectId: project.id, targetType: 'project', targetId: project.id,
        details: { revokedKeys: keys.map((k) => k.id) },
      });
      return keys.length;
    });
    return { project, revokedKeys: revoked };
  }
}

function refusal(action: Action, project: string): string {
  switch (action) {
    case 'member.manage':
      return `Only Admins of ${project} can manage its members.`;
    case 'project.settings':
      return `Only Admins of ${project} can change its settings.`;
    case 'limits.manage':
      return `Only Admins of ${project} can change its limits.`;
    case 'key.create':
      return `Viewers cannot create keys: ask an Admin of ${project} to make you a Developer.`;
    case 'project.archive':
    case 'project.create':
      return 'Only organisation admins can do that.';
    default:
      return `You do not have permission for that in ${project}.`;
  }
}

/** A no-op write that locks the project row until the transaction ends, so concurrent changes to
 *  one project (key names, archive, last Admin) run one after another and see each other. */
export async function lockProject(tx: Tx, project: { id: string; name: string }) {
  return tx.project.update({ where: { id: project.id }, data: { name: project.name } });
}

/** A project keeps at least one Admin, so someone can always manage it without an org admin.
 *  Runs inside the transaction, after lockProject, so two Admins cannot demote each other at once. */
async function ensureAnotherAdmin(tx: Tx | Db, projectId: string, userId: string, from: string, to: Role | null) {
  if (from !== 'admin' || to === 'admin') return;
  const admins = await tx.membership.count({ where: { projectId, role: 'admin', NOT: { userId } } });
  if (admins === 0) throw invalid(`<@${userId}> is the project's last Admin: make someone else Admin first.`);
}

/** Who may own keys in a project: whoever may create them (Admins and Developers). */
const canOwnKeys = (role: string) => can({ orgAdmin: false, role: role as Role }, 'key.create');

async function revokeOwnedKeys(tx: Tx, actor: Actor, now: Date, projectId: string, keys: { id: string; name: string }[], reason: string) {
  if (!keys.length) return;
  await tx.apiKey.updateMany({
    where: { id: { in: keys.map((k) => k.id) }, status: 'active' },
    data: { status: 'revoked', revokedAt: now, revokedBy: actor.id, revokeReason: reason },
  });
  for (const k of keys) {
    await markKeyChanged(tx, k.id, now);
    await audit(tx, actor, now, { action: 'key.revoked', projectId, targetType: 'key', targetId: k.id, details: { name: k.name, reason } });
  }
}

async function transferKeys(tx: Tx, actor: Actor, now: Date, projectId: string, keys: { id: string; name: string }[], from: string, to: string) {
  if (!keys.length) return;
  await tx.apiKey.updateMany({ where: { id: { in: keys.map((k) => k.id) }, status: 'active' }, data: { ownerId: to } });
  for (const k of keys) {
    await audit(tx, actor, now, { action: 'key.transferred', projectId, targetType: 'key', targetId: k.id, details: { name: k.name, from, to } });
  }
}

const article = (role: string) => (role === 'admin' ? 'an' : 'a');
