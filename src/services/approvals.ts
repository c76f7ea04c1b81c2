/**
 * Key requests (issue 5): the project policy, recording a request, deciding it (first decision wins
 * through a guarded update), minting the approved key, cancel and expiry. Rules live in
 * src/domain/approvals.ts; this file persists their outcomes and audits every step.
 */
import type { Db } from '../db/client.js';
import {
  approve, approverRecipients, cancel, deny, expire, finalMessage, needsApproval, newRequest, approvalReason,
  parsePolicy, requestTtl, NO_APPROVER_MESSAGE, type ApprovalRequest, type RequestStatus, type Transition,
} from '../domain/approvals.js';
import { conflict, invalid, notFound, DomainError } from '../domain/errors.js';
import type { Environment, Scope } from '../domain/keys.js';
import { parseKeyName } from '../domain/keys.js';
import type { ApprovalPolicy } from '../domain/projects.js';
import type { Role } from '../domain/roles.js';
import { audit } from './audit.js';
import { nowOf, slackActor, systemActor, type Actor, type ServiceDeps } from './context.js';
import { claimRequest, once, refuseRepeat } from './idempotency.js';
import { describeKey, type CreateKeyInput, type KeyService } from './keys.js';
import type { ProjectService } from './projects.js';
import type { StepUpEvidence, TotpService } from './totp.js';

type Row = Awaited<ReturnType<Db['approvalRequest']['findFirstOrThrow']>>;

export type CreateOrRequest =
  | { kind: 'created'; created: Awaited<ReturnType<KeyService['create']>> }
  | { kind: 'requested'; request: ApprovalRequest; approvers: string[]; why: string };

export interface Approved {
  /** Approved with its key; or, when the key could not be created, still pending. */
  request: ApprovalRequest;
  /** The minted key and its secret (for delivery to the requester only), or why it failed. */
  created: Awaited<ReturnType<KeyService['create']>> | null;
  failure: string | null;
}

function toRequest(r: Row, projectName: string): ApprovalRequest {
  return {
    ...r,
    projectName,
    scope: r.scope as Scope,
    environment: r.environment as Environment,
    keyExpiresInMs: r.keyExpiresInMs === null ? null : Number(r.keyExpiresInMs),
    status: r.status as RequestStatus,
  };
}

export class ApprovalService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly projects: ProjectService,
    private readonly keys: KeyService,
    private readonly totp: TotpService,
  ) {}

  private now() {
    return nowOf(this.deps);
  }

  /** `/project policy <name> approval=none|prod|always`. */
  async setPolicy(actor: Actor, projectName: string, raw: string, step?: StepUpEvidence): Promise<{ name: string; policy: ApprovalPolicy; previous: ApprovalPolicy }> {
    const policy = parsePolicy(raw);
    const { project } = await this.projects.require(actor, projectName, 'project.settings');
    await this.totp.guard(actor, 'project.policy', {}, step);
    const now = this.now();
    await this.deps.db.$transaction(async (tx) => {
      await tx.project.update({ where: { id: project.id }, data: { approvalPolicy: policy } });
      await audit(tx, actor, now, {
        action: 'project.policy_set', projectId: project.id, targetType: 'project', targetId: project.id,
        details: { approval: policy, previous: project.approvalPolicy },
      });
    });
    return { name: project.name, policy, previous: project.approvalPolicy as ApprovalPolicy };
  }

  /**
   * The entry point for people creating keys: creates the key when the policy allows, else records
   * a request. `orgAdmins` are the fallback approvers when the project has no other Admin. Creating a
   * prod key without approval takes a step-up (`step`) from users with 2FA.
   */
  async createOrRequest(actor: Actor, input: CreateKeyInput & { reason?: string }, orgAdmins: readonly string[], step?: StepUpEvidence): Promise<CreateOrRequest> {
    const { project, subject } = await this.projects.require(actor, input.project, 'key.create');
    const environment = input.environment ?? 'dev';
    const scope = input.scope ?? 'inference';
    const policy = project.approvalPolicy as ApprovalPolicy;
    if (!actor.userId || !needsApproval(policy, { environment, scope }, subject)) {
      const { reason: _r, ...keyInput } = input;
      await this.totp.guard(actor, 'key.create', { environment }, step);
      return { kind: 'created', created: await this.keys.create(actor, keyInput) };
    }
    await refuseRepeat(this.deps.db, input.requestId);
    const name = parseKeyName(input.name);
    if (input.rpm !== undefined && (!Number.isInteger(input.rpm) || input.rpm < 1 || input.rpm > 1_000_000)) {
      throw invalid('--rpm takes a whole number of requests per minute from 1 to 1000000.');
    }
    const members = await this.deps.db.membership.findMany({ where: { projectId: project.id } });
    const approvers = approverRecipients(actor.userId, members.map((m) => ({ userId: m.userId, role: m.role as Role })), orgAdmins);
    if (approvers.length === 0) throw invalid(NO_APPROVER_MESSAGE);
    const now = this.now();
    const r = newRequest(
      {
        orgId: actor.orgId, projectId: project.id, projectName: project.name, requesterId: actor.userId, keyName: name,
        scope, environment, keyExpiresInMs: input.expiresInMs ?? null, rpm: input.rpm ?? null,
        reason: input.reason ?? null,
      },
      now,
      requestTtl(this.deps.approvalTtlMs),
    );
    const { projectName: _p, ...data } = r;
    await once(this.deps.db, input.requestId, () =>
      this.deps.db.$transaction(async (tx) => {
        if (input.requestId) await claimRequest(tx, input.requestId, { requestId: r.id }, now);
        await tx.approvalRequest.create({ data: { ...data, keyExpiresInMs: r.keyExpiresInMs === null ? null : BigInt(r.keyExpiresInMs) } });
        await audit(tx, actor, now, {
          action: 'approval.requested', projectId: project.id, targetType: 'request', targetId: r.id,
          details: { name, scope: r.scope, environment, expiresInMs: r.keyExpiresInMs, rpm: r.rpm, reason: r.reason, approvers },
        });
      }),
    );
    return { kind: 'requested', request: r, approvers, why: approvalReason(policy, project.name) };
  }

  async get(id: string, orgId: string): Promise<ApprovalRequest> {
    const row = await this.deps.db.approvalRequest.findFirst({ where: { id: id.trim(), orgId } });
    if (!row) throw notFound(`No key request ${id.slice(0, 40)}.`);
    const project = await this.deps.db.project.findUniqueOrThrow({ where: { id: row.projectId } });
    return toRequest(row, project.name);
  }

  /** Pending requests the actor may decide, plus their own. */
  async listPending(actor: Actor): Promise<ApprovalRequest[]> {
    const { db } = this.deps;
    const rows = await db.approvalRequest.findMany({
      where: { orgId: actor.orgId, status: 'pending', expiresAt: { gt: this.now() } },
      orderBy: { createdAt: 'asc' },
      take: 500,
    });
    const projects = await db.project.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.projectId))] } } });
    const names = new Map(projects.map((p) => [p.id, p.name]));
    const adminOf = actor.orgAdmin || !actor.userId
      ? null
      : new Set((await db.membership.findMany({ where: { userId: actor.userId, role: 'admin' } })).map((m) => m.projectId));
    return rows
      .filter((r) => !adminOf || adminOf.has(r.projectId) || r.requesterId === actor.userId)
      .map((r) => toRequest(r, names.get(r.projectId) ?? '?'));
  }

  /** Persists a final state only if the request is still pending; false when someone else was first. */
  private async finalize(actor: Actor, next: ApprovalRequest, action: string, details: Record<string, unknown> = {}): Promise<boolean> {
    const now = this.now();
    return this.deps.db.$transaction(async (tx) => {
      const r = await tx.approvalRequest.updateMany({
        where: { id: next.id, status: 'pending' },
        data: { status: next.status, decidedBy: next.decidedBy, decidedAt: next.decidedAt, decisionNote: next.decisionNote },
      });
      if (r.count !== 1) return false;
      await audit(tx, actor, now, { action, projectId: next.projectId, targetType: 'request', targetId: next.id, details });
      return true;
    });
  }

  /** Throws a refusal. A lapsed request reads as expired at once; expireDue() persists it and tells
   *  everyone (exactly once), so the notification has one owner. */
  private async refuse(t: Extract<Transition, { ok: false }>): Promise<never> {
    throw new DomainError(t.code, t.message);
  }

  /** Applies a transition: the first to persist it wins, everyone after sees the decision. */
  private async apply(actor: Actor, t: Transition, action: string, details?: Record<string, unknown>): Promise<ApprovalRequest> {
    if (!t.ok) return this.refuse(t);
    if (!(await this.finalize(actor, t.request, action, details))) {
      throw conflict(finalMessage(await this.get(t.request.id, t.request.orgId)));
    }
    return t.request;
  }

  private async decider(actor: Actor, r: ApprovalRequest) {
    const subject = await this.projects.subject(actor, r.projectId);
    return { id: actor.userId ?? actor.id, orgAdmin: subject.orgAdmin, role: subject.role };
  }

  /** Refusals (own request, not an Admin, already decided) come before the step-up is asked for. */
  async checkDecidable(actor: Actor, id: string): Promise<ApprovalRequest> {
    const r = await this.get(id, actor.orgId);
    const t = approve(r, await this.decider(actor, r), this.now(), null);
    return t.ok ? r : this.refuse(t);
  }

  /**
   * Approve (with a TOTP step-up when the approver has 2FA or the org requires it), then mint the
   * key for the requester. The secret is returned for delivery to the requester only.
   *
   * The decision and the key commit in one transaction: if the key cannot be created as asked
   * (name taken meanwhile, requester removed, project archived), nothing is approved, the request
   * stays pending and `failure` says why, so it can be approved again once fixed, or cancelled.
   */
  async approve(
    actor: Actor,
    id: string,
    /** `step`: the proof of the adapter's code check (its modal's code field), or the code. */
    opts: { note?: string | null; step?: StepUpEvidence } = {},
  ): Promise<Approved> {
    const r = await this.get(id, actor.orgId);
    const t = approve(r, await this.decider(actor, r), this.now(), opts.note);
    if (!t.ok) return this.refuse(t);
    await this.totp.guard(actor, 'approval.approve', {}, opts.step);
    const requester = slackActor(actor.orgId, r.requesterId, false);
    const decided = t.request;
    let lost = false;
    try {
      const plan = await this.keys.planCreate(requester, {
        project: r.projectName, name: r.keyName, scope: r.scope, environment: r.environment, ownerId: r.requesterId,
        ...(r.keyExpiresInMs ? { expiresInMs: r.keyExpiresInMs } : {}), ...(r.rpm ? { rpm: r.rpm } : {}),
        requestId: `approval:${r.id}`,
      });
      const row = await this.deps.db.$transaction(async (tx) => {
        const won = await tx.approvalRequest.updateMany({
          where: { id: r.id, status: 'pending' },
          data: { status: decided.status, decidedBy: decided.decidedBy, decidedAt: decided.decidedAt, decisionNote: decided.decisionNote, keyId: plan.id },
        });
        if (won.count !== 1) {
          lost = true;
          throw conflict('decided meanwhile');
        }
        await audit(tx, actor, this.now(), {
          action: 'approval.approved', projectId: r.projectId, targetType: 'request', targetId: r.id, details: { note: decided.decisionNote },
        });
        return this.keys.insertPlanned(tx, requester, plan);
      });
      const created = { key: describeKey(row), projectName: plan.project.name, secret: plan.secret };
      return { request: { ...decided, keyId: row.id }, created, failure: null };
    } catch (error) {
      if (lost) throw conflict(finalMessage(await this.get(r.id, r.orgId)));
      if (!(error instanceof DomainError)) throw error;
      await audit(this.deps.db, actor, this.now(), {
        action: 'approval.key_failed', projectId: r.projectId, targetType: 'request', targetId: r.id, details: { reason: error.message },
      });
      return { request: r, created: null, failure: error.message };
    }
  }

  async deny(actor: Actor, id: string, reason: string | null | undefined): Promise<ApprovalRequest> {
    const r = await this.get(id, actor.orgId);
    const t = deny(r, await this.decider(actor, r), this.now(), reason);
    return this.apply(actor, t, 'approval.denied', { reason: t.ok ? t.request.decisionNote : null });
  }

  async cancel(actor: Actor, id: string): Promise<ApprovalRequest> {
    const r = await this.get(id, actor.orgId);
    return this.apply(actor, cancel(r, actor.userId ?? actor.id, this.now()), 'approval.cancelled');
  }

  /** Expires every lapsed pending request; returns those this call expired (each exactly once). */
  async expireDue(): Promise<ApprovalRequest[]> {
    const now = this.now();
    const rows = await this.deps.db.approvalRequest.findMany({ where: { status: 'pending', expiresAt: { lte: now } }, take: 500 });
    const out: ApprovalRequest[] = [];
    for (const row of rows) {
      const project = await this.deps.db.project.findUnique({ where: { id: row.projectId } });
      const t = expire(toRequest(row, project?.name ?? '?'), now);
      if (t.ok && (await this.finalize(systemActor(row.orgId), t.request, 'approval.expired'))) out.push(t.request);
    }
    return out;
  }

  // ---- Slack message bookkeeping (so every copy can be updated) -----------------------------

  async recordApproverMessage(requestId: string, userId: string, channelId: string, ts: string) {
    await this.deps.db.approvalMessage.upsert({
      where: { requestId_userId: { requestId, userId } },
      create: { requestId, userId, channelId, ts },
      update: { channelId, ts },
    });
  }

  approverMessages(requestId: string) {
    return this.deps.db.approvalMessage.findMany({ where: { requestId } });
  }

  async recordRequesterMessage(requestId: string, channelId: string, ts: string) {
    await this.deps.db.approvalRequest.update({ where: { id: requestId }, data: { requesterChannelId: channelId, requesterTs: ts } });
  }

  async requesterMessage(requestId: string) {
    const r = await this.deps.db.approvalRequest.findUnique({ where: { id: requestId }, select: { requesterChannelId: true, requesterTs: true } });
    return r?.requesterChannelId && r.requesterTs ? { channelId: r.requesterChannelId, ts: r.requesterTs } : null;
  }
}
