/**
 * Two-factor use cases over a small repository port (phase 1: in memory; phase 2: the database).
 * Every refusal is a DomainError with a user-ready message; audit entries never hold a code or secret.
 */
import { who } from '../domain/approvals.js';
import { DomainError, conflict, forbidden, invalid, notFound } from '../domain/errors.js';
import {
  checkCode, groupSecret, lockedMessage, lockedUntil, reportLockout, startEnrollment, stepUpRequirement,
  ENROLL_FIRST_MESSAGE, type StepUp, type TotpRecord,
} from '../domain/totp.js';
import { needsStepUp, StepUpRequired, type StepUpAction, type StepUpContext } from '../domain/stepup.js';
import type { AuditInput } from './audit.js';
import { nowOf, type Actor } from './context.js';

export interface TotpRepository {
  get(orgId: string, userId: string): Promise<TotpRecord | null>;
  /**
   * Writes `next` only when the stored row still has `expectedVersion` (null: no row yet).
   * Returns false when another request changed it first (DB: conditional update / insert conflict).
   */
  save(next: TotpRecord, expectedVersion: number | null): Promise<boolean>;
  /** Returns whether a row existed. */
  delete(orgId: string, userId: string): Promise<boolean>;
  /** The enrollment QR file in Slack (kept apart from the record: code checks never touch it). */
  setQrFile(orgId: string, userId: string, fileId: string): Promise<void>;
  /** Clears and returns the QR file id; of two concurrent callers only one gets it. */
  takeQrFile(orgId: string, userId: string): Promise<string | null>;
  /** QR files of enrollments started before `before`. */
  qrFilesBefore(before: Date): Promise<{ orgId: string; userId: string }[]>;
}

export class MemoryTotpRepository implements TotpRepository {
  private readonly rows = new Map<string, TotpRecord>();
  private key = (orgId: string, userId: string) => `${orgId}\u0000${userId}`;

  async get(orgId: string, userId: string) {
    const row = this.rows.get(this.key(orgId, userId));
    return row ? { ...row } : null;
  }

  async save(next: TotpRecord, expectedVersion: number | null) {
    const k = this.key(next.orgId, next.userId);
    if ((this.rows.get(k)?.version ?? null) !== expectedVersion) return false;
    this.rows.set(k, { ...next });
    return true;
  }

  async delete(orgId: string, userId: string) {
    this.files.delete(this.key(orgId, userId));
    return this.rows.delete(this.key(orgId, userId));
  }

  private readonly files = new Map<string, string>();

  async setQrFile(orgId: string, userId: string, fileId: string) {
    if (this.rows.has(this.key(orgId, userId))) this.files.set(this.key(orgId, userId), fileId);
  }

  async takeQrFile(orgId: string, userId: string) {
    const k = this.key(orgId, userId);
    const id = this.files.get(k) ?? null;
    this.files.delete(k);
    return id;
  }

  async qrFilesBefore(before: Date) {
    return [...this.files.keys()]
      .map((k) => this.rows.get(k)!)
      .filter((r) => r.createdAt < before)
      .map((r) => ({ orgId: r.orgId, userId: r.userId }));
  }
}

export type TotpAuditSink = (actor: Actor, at: Date, input: AuditInput) => Promise<void>;

export interface TotpServiceDeps {
  repo: TotpRepository;
  /** KEYWARD_SECRET. */
  secret: string;
  /** KEYWARD_REQUIRE_2FA: sensitive actions need 2FA from everyone. */
  requireAll?: boolean;
  audit?: TotpAuditSink;
  now?: () => Date;
}

export interface Enrollment {
  uri: string;
  /** Base32, grouped by 4 for typing. Shown to its owner only, once. */
  manualSecret: string;
  /** QR code of `uri`. */
  png: Buffer;
}

/** A lockout that repeats one before it (see reportLockout): someone may be guessing codes. */
export interface RepeatedLockout {
  orgId: string;
  userId: string;
  /** Lockouts in a row. */
  lockouts: number;
  until: Date;
}

/**
 * Evidence that a Slack user entered a good code moments ago, for one request's service calls
 * (a review revoke removes a member too). Only TotpService makes them; they live in memory only.
 */
export interface StepUpProof {
  readonly orgId: string;
  readonly userId: string;
  readonly at: Date;
}
const minted = new WeakSet<StepUpProof>();
/** A proof covers the request that checked the code, not a later one. */
export const PROOF_TTL_MS = 60_000;

/** What a sensitive service method takes: a proof from the adapter's code check, or the code itself. */
export type StepUpEvidence = StepUpProof | string | null | undefined;

/** How long an enrollment QR image may stay in Slack when the user neither verifies nor closes it. */
export const QR_FILE_TTL_MS = 15 * 60_000;

export type TwoFactorStatus = { status: 'none' | 'pending' | 'active'; lockedUntil: Date | null; stepUp: StepUp };

/** Concurrent checks of one user's code race on the row version; a lost race re-reads and re-checks. */
const ATTEMPTS = 3;

/** PNG of a QR code (error correction M, 4-module quiet zone as the spec asks). */
export async function renderQrPng(text: string): Promise<Buffer> {
  // Loaded on first enrolment only: a process that never enrols never holds the QR library.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 6 });
}

export class TotpService {
  private readonly lockoutListeners: ((e: RepeatedLockout) => Promise<void>)[] = [];

  constructor(private readonly deps: TotpServiceDeps) {}

  /** Called once per repeated lockout (by the process that recorded it); the Slack app tells org admins. */
  onRepeatedLockout(listener: (e: RepeatedLockout) => Promise<void>) {
    this.lockoutListeners.push(listener);
  }

  private now() {
    return nowOf(this.deps);
  }

  private async audit(actor: Actor, at: Date, input: AuditInput) {
    await this.deps.audit?.(actor, at, { targetType: 'user', ...input });
  }

  private static person(actor: Actor): string {
    if (!actor.userId) throw invalid('Two-factor authentication is for Slack users; the CLI runs with server access.');
    return actor.userId;
  }

  async status(actor: Actor): Promise<TwoFactorStatus> {
    if (!actor.userId) return { status: 'none', lockedUntil: null, stepUp: 'none' };
    const record = await this.deps.repo.get(actor.orgId, actor.userId);
    return {
      status: record?.status ?? 'none',
      lockedUntil: lockedUntil(record, this.now()),
      stepUp: stepUpRequirement(record, this.deps.requireAll ?? false),
    };
  }

  /** What a sensitive action asks of `actor` (modal builders show the code field for 'code'). */
  async requirement(actor: Actor): Promise<StepUp> {
    return (await this.status(actor)).stepUp;
  }

  async enroll(actor: Actor, account?: string): Promise<Enrollment> {
    const userId = TotpService.person(actor);
    const now = this.now();
    const previous = await this.deps.repo.get(actor.orgId, userId);
    if (previous?.status === 'active') {
      throw conflict('Two-factor is already on for you. To re-enroll, run `/keyward 2fa disable <code>` first.');
    }
    const e = startEnrollment(this.deps.secret, { orgId: actor.orgId, userId, account: account ?? userId }, previous, now);
    if (!(await this.deps.repo.save(e.record, previous?.version ?? null))) {
      throw conflict('Another enrollment started at the same moment. Run `/keyward 2fa enroll` again.');
    }
    await this.audit(actor, now, { action: 'totp.enroll_started', targetId: userId });
    return { uri: e.uri, manualSecret: groupSecret(e.secret), png: await renderQrPng(e.uri) };
  }

  /**
   * Checks a code for `userId`, persisting the outcome (success or failure) and retrying a lost
   * race. Throws the user-ready refusal.
   */
  private async check(actor: Actor, userId: string, code: string, purpose: string): Promise<TotpRecord> {
    for (let i = 0; i < ATTEMPTS; i++) {
      const now = this.now();
      const record = await this.deps.repo.get(actor.orgId, userId);
      if (!record) throw notFound('You have not enrolled in two-factor. Run `/keyward 2fa enroll`.');
      const result = await checkCode(this.deps.secret, record, code, now);
      if (!result.ok && result.reason === 'malformed') throw invalid(result.message);
      if (!result.ok && result.reason === 'locked') throw new DomainError('limit', result.message);
      if (!(await this.deps.repo.save(result.record, record.version))) continue;
      if (result.ok) return result.record;
      await this.audit(actor, now, { action: 'totp.failed', targetId: userId, details: { purpose, reason: result.reason } });
      if (result.lockedNow) {
        const { lockedUntil: until, lockouts } = result.record;
        await this.audit(actor, now, { action: 'totp.locked', targetId: userId, details: { until, lockouts } });
        if (reportLockout(lockouts)) await this.reportLockout({ orgId: actor.orgId, userId, lockouts, until: until! });
      }
      throw result.lockedNow ? new DomainError('limit', result.message) : forbidden(result.message);
    }
    throw conflict('That code was being checked by another request. Wait for the next code and try again.');
  }

  private async reportLockout(e: RepeatedLockout) {
    for (const listener of this.lockoutListeners) {
      // The refusal stands whether or not the notice went out; listeners log their own failures.
      await listener(e).catch(() => undefined);
    }
  }

  /** Remembers the enrollment QR image uploaded to Slack, to delete it later. */
  async attachQrFile(actor: Actor, fileId: string): Promise<void> {
    await this.deps.repo.setQrFile(actor.orgId, TotpService.person(actor), fileId);
  }

  /** The QR image to delete now (verified, closed, disabled, reset, restarted), at most once. */
  takeQrFile(orgId: string, userId: string): Promise<string | null> {
    return this.deps.repo.takeQrFile(orgId, userId);
  }

  /** QR images of enrollments left unfinished for QR_FILE_TTL_MS, each claimed once. */
  async takeAbandonedQrFiles(): Promise<{ orgId: string; userId: string; fileId: string }[]> {
    const out = [];
    for (const r of await this.deps.repo.qrFilesBefore(new Date(this.now().getTime() - QR_FILE_TTL_MS))) {
      const fileId = await this.deps.repo.takeQrFile(r.orgId, r.userId);
      if (fileId) out.push({ ...r, fileId });
    }
    return out;
  }

  /** `/keyward 2fa verify <code>`: completes a pending enrollment. */
  async verify(actor: Actor, code: string): Promise<void> {
    const userId = TotpService.person(actor);
    const current = await this.deps.repo.get(actor.orgId, userId);
    if (current?.status === 'active') throw conflict('Two-factor is already on for you; nothing to verify.');
    await this.check(actor, userId, code, 'enroll');
    await this.audit(actor, this.now(), { action: 'totp.enrolled', targetId: userId });
  }

  /**
   * Step-up before a sensitive action (`purpose`, e.g. "key.revoke"). Resolves 'none' when this user
   * needs no code, 'verified' after a good code; throws otherwise (including "enroll first").
   */
  async stepUp(actor: Actor, code: string | null | undefined, purpose: string): Promise<'none' | 'verified'> {
    if (!actor.userId) return 'none';
    const userId = actor.userId;
    const record = await this.deps.repo.get(actor.orgId, userId);
    const need = stepUpRequirement(record, this.deps.requireAll ?? false);
    if (need === 'none') return 'none';
    if (need === 'enroll') throw forbidden(ENROLL_FIRST_MESSAGE);
    const until = lockedUntil(record, this.now());
    if (until) throw new DomainError('limit', lockedMessage(until, this.now()));
    if (!code?.trim()) throw invalid('This action needs a fresh code from your authenticator app.');
    await this.check(actor, userId, code, purpose);
    await this.audit(actor, this.now(), { action: 'totp.step_up', targetId: userId, details: { purpose } });
    return 'verified';
  }

  /** Checks a code for a step-up (as stepUp) and returns a proof of it; null when no code was needed. */
  async prove(actor: Actor, code: string | null | undefined, action: StepUpAction): Promise<StepUpProof | null> {
    if ((await this.stepUp(actor, code, action)) === 'none') return null;
    const proof: StepUpProof = Object.freeze({ orgId: actor.orgId, userId: actor.userId!, at: this.now() });
    minted.add(proof);
    return proof;
  }

  /**
   * The step-up rule of the sensitive service methods (list: domain/stepup.ts). Passes when the
   * action needs no code here, the user needs none (no 2FA, not required; the CLI), or `step` is a
   * fresh proof or a good code. Without either it throws StepUpRequired and nothing happens.
   */
  async guard(actor: Actor, action: StepUpAction, context: StepUpContext, step: StepUpEvidence): Promise<StepUpProof | null> {
    if (!needsStepUp(action, context) || !actor.userId) return null;
    if (step && typeof step === 'object') {
      const fresh = this.now().getTime() - step.at.getTime() <= PROOF_TTL_MS;
      if (minted.has(step) && step.orgId === actor.orgId && step.userId === actor.userId && fresh) return step;
      throw forbidden('That confirmation is no longer valid. Run the command again.');
    }
    if (!step?.trim() && (await this.requirement(actor)) === 'code') throw new StepUpRequired(action);
    return this.prove(actor, step, action);
  }

  /**
   * `/keyward 2fa disable <code>`: an active enrollment needs a code; a pending one is just dropped.
   * Returns the enrollment QR file still in Slack, for the caller to delete.
   */
  async disable(actor: Actor, code: string | null | undefined): Promise<{ qrFileId: string | null }> {
    const userId = TotpService.person(actor);
    const record = await this.deps.repo.get(actor.orgId, userId);
    if (!record) throw notFound('Two-factor is not on for you.');
    if (record.status === 'active') {
      const until = lockedUntil(record, this.now());
      if (until) throw new DomainError('limit', lockedMessage(until, this.now()));
      if (!code?.trim()) throw invalid('Give a current code: `/keyward 2fa disable <code>`.');
      await this.check(actor, userId, code, 'disable');
    }
    const qrFileId = await this.deps.repo.takeQrFile(actor.orgId, userId);
    await this.deps.repo.delete(actor.orgId, userId);
    await this.audit(actor, this.now(), { action: 'totp.disabled', targetId: userId, details: { was: record.status } });
    return { qrFileId };
  }

  /**
   * An org admin clears another user's enrollment (lost phone). The admin steps up first when
   * enrolled. Self-reset is refused for Slack users: that would bypass `disable <code>`.
   * The caller tells the user (and deletes the returned QR file, if any).
   */
  async adminReset(actor: Actor, targetUserId: string, code?: string | null): Promise<{ qrFileId: string | null }> {
    if (!actor.orgAdmin) throw forbidden('Only org admins can reset someone else’s two-factor.');
    if (actor.userId === targetUserId) throw forbidden('Use `/keyward 2fa disable <code>` for your own two-factor.');
    await this.stepUp(actor, code, 'totp.reset');
    const qrFileId = await this.deps.repo.takeQrFile(actor.orgId, targetUserId);
    const existed = await this.deps.repo.delete(actor.orgId, targetUserId);
    if (!existed) throw notFound(`${who(targetUserId)} has no two-factor enrollment.`);
    await this.audit(actor, this.now(), { action: 'totp.reset', targetId: targetUserId });
    return { qrFileId };
  }
}
