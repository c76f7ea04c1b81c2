import type { Db, Tx } from '../db/client.js';
import { DEFAULT_GRACE_MS } from '../domain/durations.js';
import { conflict, forbidden, invalid, notFound } from '../domain/errors.js';
import {
  hashSecret, isKeyId, newKeyId, newSecret, parseKeyName, scopeFromDb, scopeToDb, secretHint,
  type Environment, type Scope,
} from '../domain/keys.js';
import { can, canManageKey } from '../domain/roles.js';
import { audit } from './audit.js';
import { nowOf, type Actor, type ServiceDeps } from './context.js';
import { claimRequest, once, refuseRepeat } from './idempotency.js';
import { markKeyChanged } from './key-changes.js';
import { lockProject, type ProjectService } from './projects.js';
import type { StepUpEvidence, TotpService } from './totp.js';

export type KeyRow = Awaited<ReturnType<Db['apiKey']['findFirstOrThrow']>>;

export interface CreateKeyInput {
  project: string;
  name: string;
  scope?: Scope;
  environment?: Environment;
  expiresInMs?: number;
  rpm?: number;
  /** Slack retry / double-click guard: the same id never creates a second key. */
  requestId?: string;
  /** Defaults to the actor (the CLI may create keys for a Slack user). */
  ownerId?: string;
}

/** A key as adapters show it: never the secret or its hash. */
export function describeKey(k: KeyRow) {
  return {
    id: k.id,
    name: k.name,
    projectId: k.projectId,
    scope: scopeFromDb(k.scope),
    environment: k.environment as Environment,
    ownerId: k.ownerId,
    status: k.status,
    hint: k.hint,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
    revokedBy: k.revokedBy,
    revokeReason: k.revokeReason,
    rotatedAt: k.rotatedAt,
    graceEndsAt: k.graceEndsAt,
    prevHint: k.prevHint,
    rpm: k.rpm,
  };
}
export type KeyView = ReturnType<typeof describeKey>;

export interface PlannedKey {
  input: CreateKeyInput;
  name: string;
  project: { id: string; name: string };
  ownerId: string;
  id: string;
  secret: string;
}

export interface CreatedKey {
  key: KeyView;
  projectName: string;
  secret: string;
}

/** The state a rotation replaced, and the hash it installed (compare-and-set for the undo). */
export interface RotationUndo {
  keyId: string;
  rotatedHash: string;
  before: Pick<KeyRow, 'secretHash' | 'hint' | 'prevSecretHash' | 'prevHint' | 'graceEndsAt' | 'rotatedAt'>;
}

/** Active key whose name matches ignoring case ("Prod" and "prod" would be confused in every list). */
async function sameNameKey(db: Db | Tx, projectId: string, name: string) {
  const active = await db.apiKey.findMany({ where: { projectId, status: 'active' }, select: { id: true, name: true } });
  const wanted = name.toLowerCase();
  return active.find((k) => k.name.toLowerCase() === wanted) ?? null;
}

export class KeyService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly projects: ProjectService,
    private readonly totp: TotpService,
  ) {}

  private now() {
    return nowOf(this.deps);
  }

  async create(actor: Actor, input: CreateKeyInput): Promise<CreatedKey> {
    const plan = await this.planCreate(actor, input);
    const { db } = this.deps;
    const key = await once(db, input.requestId, () => db.$transaction((tx) => this.insertPlanned(tx, actor, plan)));
    return { key: describeKey(key), projectName: plan.project.name, secret: plan.secret };
  }

  /**
   * Everything `create` checks before writing (permission, name, rpm), and the new secret. With
   * insertPlanned, callers that must commit a key together with their own change (an approval)
   * run the insert in their transaction.
   */
  async planCreate(actor: Actor, input: CreateKeyInput): Promise<PlannedKey> {
    const name = parseKeyName(input.name);
    const { project, subject } = await this.projects.require(actor, input.project, 'key.create');
    // A Developer's keys are their own; only those who manage all keys may create one for someone else.
    if (input.ownerId && input.ownerId !== actor.userId && !can(subject, 'key.manage.any')) {
      throw forbidden(`Only Admins of ${project.name} can create keys for someone else.`);
    }
    await refuseRepeat(this.deps.db, input.requestId);
    if (input.rpm !== undefined && (!Number.isInteger(input.rpm) || input.rpm < 1 || input.rpm > 1_000_000)) {
      throw invalid('--rpm takes a whole number of requests per minute from 1 to 1000000.');
    }
    const clash = await sameNameKey(this.deps.db, project.id, name);
    if (clash) throw conflict(`${project.name} already has an active key named "${name}" (${clash.id}). Pick another name.`);
    return { input, name, project, ownerId: input.ownerId ?? actor.userId ?? actor.id, id: newKeyId(), secret: newSecret() };
  }

  /** Writes a planned key in the caller's transaction (re-checking what may have changed since). */
  async insertPlanned(tx: Tx, actor: Actor, plan: PlannedKey): Promise<KeyRow> {
    const { input, name, project, ownerId, id, secret } = plan;
    const now = this.now();
    if (input.requestId) await claimRequest(tx, input.requestId, { keyId: id }, now);
    // Concurrent creates (and archive) of one project run one after another, so the name check
    // below sees keys committed a moment ago.
    const locked = await lockProject(tx, project);
    if (locked.archivedAt) throw invalid(`Project "${project.name}" is archived.`);
    const taken = await sameNameKey(tx, project.id, name);
    if (taken) throw conflict(`${project.name} already has an active key named "${name}" (${taken.id}). Pick another name.`);
    const row = await tx.apiKey.create({
      data: {
        id, orgId: actor.orgId, projectId: project.id, name,
        scope: scopeToDb(input.scope ?? 'inference'),
        environment: input.environment ?? 'dev',
        ownerId, secretHash: hashSecret(this.deps.secret, secret), hint: secretHint(secret),
        rpm: input.rpm ?? null, createdBy: actor.id, createdAt: now,
        expiresAt: input.expiresInMs ? new Date(now.getTime() + input.expiresInMs) : null,
      },
    });
    await markKeyChanged(tx, id, now);
    await audit(tx, actor, now, {
      action: 'key.created', projectId: project.id, targetType: 'key', targetId: id,
      details: {
        name, scope: input.scope ?? 'inference', environment: row.environment, owner: ownerId,
        expiresAt: row.expiresAt?.toISOString() ?? null, rpm: row.rpm,
      },
    });
    return row;
  }

  /** Keys the actor may list: one project, or every project they belong to (all for org admins). */
  async list(actor: Actor, projectName?: string, opts: { includeInactive?: boolean } = {}) {
    const statusFilter = opts.includeInactive ? {} : { status: 'active' as const };
    if (projectName) {
      const { project } = await this.projects.require(actor, projectName, 'key.list', { allowArchived: true });
      const keys = await this.deps.db.apiKey.findMany({
        where: { projectId: project.id, ...statusFilter },
        orderBy: [{ createdAt: 'desc' }],
      });
      return keys.map((k) => ({ ...describeKey(k), projectName: project.name }));
    }
    const projects = await this.projects.list(actor);
    const names = new Map(projects.map((p) => [p.id, p.name]));
    const keys = await this.deps.db.apiKey.findMany({
      where: { orgId: actor.orgId, projectId: { in: [...names.keys()] }, ...statusFilter },
      orderBy: [{ projectId: 'asc' }, { createdAt: 'desc' }],
    });
    return keys.map((k) => ({ ...describeKey(k), projectName: names.get(k.projectId)! }));
  }

  /** A key the actor may see (Viewer or above of its project). */
  async get(actor: Actor, keyId: string) {
    const id = keyId.trim();
    if (!isKeyId(id)) throw invalid(`"${id.slice(0, 40)}" is not a key id: key ids look like \`key_4fT9...\` (see \`/keys list\`).`);
    const key = await this.deps.db.apiKey.findFirst({ where: { id, orgId: actor.orgId }, include: { project: true } });
    const subject = key ? await this.projects.subject(actor, key.projectId) : null;
    if (!key || !subject || !can(subject, 'key.list')) {
      throw notFound(`No key ${id} that you can see. \`/keys list\` shows yours.`);
    }
    return { key, project: key.project, subject };
  }

  async show(actor: Actor, keyId: string) {
    const { key, project } = await this.get(actor, keyId);
    return { ...describeKey(key), projectName: project.name };
  }

  private async requireManage(actor: Actor, keyId: string, verb: 'revoke' | 'rotate') {
    const found = await this.get(actor, keyId);
    if (!canManageKey(found.subject, actor.userId, found.key.ownerId)) {
      throw forbidden(
        found.subject.role === 'developer'
          ? `Developers can ${verb} only their own keys; ${found.key.id} belongs to <@${found.key.ownerId}>.`
          : `Only Admins of ${found.project.name} and the key's owner can ${verb} ${found.key.id}.`,
      );
    }
    if (found.key.status !== 'active') {
      throw conflict(`${found.key.id} is already ${found.key.status}${found.key.revokedBy ? ` (by ${found.key.revokedBy})` : ''}.`);
    }
    if (verb === 'rotate' && found.key.expiresAt && found.key.expiresAt.getTime() <= this.now().getTime()) {
      throw conflict(`${found.key.id} expired on ${found.key.expiresAt.toISOString().slice(0, 10)}; create a new key instead.`);
    }
    return found;
  }

  /** A prod key takes a step-up (`step`: the adapter's proof, or the code) from users with 2FA. */
  async revoke(actor: Actor, keyId: string, reason = '', requestId?: string, step?: StepUpEvidence) {
    const cleanReason = reason.trim().slice(0, 500);
    await refuseRepeat(this.deps.db, requestId);
    const { key, project } = await this.requireManage(actor, keyId, 'revoke');
    await this.totp.guard(actor, 'key.revoke', { environment: key.environment as Environment }, step);
    const now = this.now();
    const { db } = this.deps;
    const row = await once(db, requestId, () =>
      db.$transaction(async (tx) => {
        if (requestId) await claimRequest(tx, requestId, { keyId: key.id }, now);
        const updated = await tx.apiKey.updateMany({
          where: { id: key.id, status: 'active' },
          data: { status: 'revoked', revokedAt: now, revokedBy: actor.id, revokeReason: cleanReason || null },
        });
        if (updated.count === 0) throw conflict(`${key.id} was revoked a moment ago.`);
        await markKeyChanged(tx, key.id, now);
        await audit(tx, actor, now, {
          action: 'key.revoked', projectId: key.projectId, targetType: 'key', targetId: key.id,
          details: { name: key.name, reason: cleanReason || null },
        });
        return tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
      }),
    );
    return { ...describeKey(row), projectName: project.name };
  }

  /**
   * New secret, same key id and settings. The previous secret keeps working until the grace end;
   * rotating again during a grace period ends the older secret at once. `undo` puts the key back
   * as it was if the new secret cannot reach its owner (held in memory only, never shown).
   * A prod key takes a step-up (`step`) from users with 2FA.
   */
  async rotate(actor: Actor, keyId: string, graceMs = DEFAULT_GRACE_MS, requestId?: string, step?: StepUpEvidence) {
    await refuseRepeat(this.deps.db, requestId);
    const { key, project } = await this.requireManage(actor, keyId, 'rotate');
    await this.totp.guard(actor, 'key.rotate', { environment: key.environment as Environment }, step);
    const now = this.now();
    const { db, secret: serverSecret } = this.deps;
    const secret = newSecret();
    const rotatedHash = hashSecret(serverSecret, secret);
    const graceEndsAt = new Date(now.getTime() + graceMs);
    const row = await once(db, requestId, () =>
      db.$transaction(async (tx) => {
        if (requestId) await claimRequest(tx, requestId, { keyId: key.id }, now);
        const updated = await tx.apiKey.updateMany({
          where: { id: key.id, status: 'active', secretHash: key.secretHash },
          data: {
            secretHash: rotatedHash, hint: secretHint(secret),
            prevSecretHash: graceMs > 0 ? key.secretHash : null, prevHint: graceMs > 0 ? key.hint : null,
            graceEndsAt: graceMs > 0 ? graceEndsAt : null, rotatedAt: now,
          },
        });
        if (updated.count === 0) throw conflict(`${key.id} changed while rotating; run the rotation again.`);
        await markKeyChanged(tx, key.id, now);
        await audit(tx, actor, now, {
          action: 'key.rotated', projectId: key.projectId, targetType: 'key', targetId: key.id,
          details: { name: key.name, graceEndsAt: graceMs > 0 ? graceEndsAt.toISOString() : null, previousHint: key.hint },
        });
        return tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
      }),
    );
    const undo: RotationUndo = {
      keyId: key.id, rotatedHash,
      before: {
        secretHash: key.secretHash, hint: key.hint, prevSecretHash: key.prevSecretHash, prevHint: key.prevHint,
        graceEndsAt: key.graceEndsAt, rotatedAt: key.rotatedAt,
      },
    };
    return { key: { ...describeKey(row), projectName: project.name }, secret, undo };
  }

  /**
   * Puts a key back exactly as it was before one rotation whose secret could not be delivered
   * (the old secret works again, even after `--grace 0h`). Only while that rotation is still the
   * key's current one: a later rotation or a revocation is never undone. False when nothing changed.
   */
  async undoRotation(actor: Actor, undo: RotationUndo, reason: string): Promise<boolean> {
    const now = this.now();
    return this.deps.db.$transaction(async (tx) => {
      const restored = await tx.apiKey.updateMany({
        where: { id: undo.keyId, status: 'active', secretHash: undo.rotatedHash },
        data: undo.before,
      });
      if (restored.count === 0) return false;
      const key = await tx.apiKey.findUniqueOrThrow({ where: { id: undo.keyId } });
      await markKeyChanged(tx, undo.keyId, now);
      await audit(tx, actor, now, { action: 'key.rotation_undone', projectId: key.projectId, targetType: 'key', targetId: undo.keyId, details: { reason } });
      return true;
    });
  }

  /** Revokes without permission checks: used when a fresh secret could not reach its owner. */
  async revokeAsSystem(actor: Actor, keyId: string, reason: string) {
    const now = this.now();
    await this.deps.db.$transaction(async (tx) => {
      const key = await tx.apiKey.findUniqueOrThrow({ where: { id: keyId } });
      const updated = await tx.apiKey.updateMany({
        where: { id: keyId, status: 'active' },
        data: { status: 'revoked', revokedAt: now, revokedBy: actor.id, revokeReason: reason },
      });
      if (updated.count === 0) return;
      await markKeyChanged(tx, keyId, now);
      await audit(tx, actor, now, { action: 'key.revoked', projectId: key.projectId, targetType: 'key', targetId: keyId, details: { name: key.name, reason } });
    });
  }
}
