/**
 * TOTP two-factor rules (RFC 6238 through otplib): enrollment state, ±1 step window, replay
 * rejection, a lockout that doubles while the guessing goes on. Near-pure: the clock and the server secret come in as arguments; the record
 * goes out updated and the caller persists it (also after a failure, so the counter survives).
 */
import { generateSecret, generateURI, verify } from 'otplib';
import { deriveKey, open, seal } from './crypto.js';
import { invalid } from './errors.js';

export const TOTP_ISSUER = 'keyward';
export const TOTP_PERIOD_S = 30;
/** ±1 time step: a phone clock 30 s off still works; older codes do not. */
export const TOTP_TOLERANCE_S = TOTP_PERIOD_S;
export const MAX_FAILURES = 5;
/** The first lockout; each further one in a row doubles, up to MAX_LOCKOUT_MS. */
export const LOCKOUT_MS = 15 * 60_000;
export const MAX_LOCKOUT_MS = 24 * 3_600_000;
/** From this many lockouts in a row on, every lockout is reported to the org admins. */
export const REPORT_LOCKOUTS_FROM = 2;

export type TotpStatus = 'pending' | 'active';

/** What is stored per (org, user). Never holds the secret in clear. */
export interface TotpRecord {
  orgId: string;
  userId: string;
  /** AES-256-GCM of the base32 secret under deriveKey(KEYWARD_SECRET, 'totp'), bound to org and user. */
  sealedSecret: string;
  status: TotpStatus;
  /** Time step of the last accepted code: a code must be from a later step (replay rejection). */
  lastTimeStep: number | null;
  /** Consecutive wrong codes since the last success or lockout. */
  failedAttempts: number;
  lockedUntil: Date | null;
  /** Lockouts in a row since the last accepted code: each lasts twice as long as the one before. */
  lockouts: number;
  createdAt: Date;
  activatedAt: Date | null;
  updatedAt: Date;
  /** Optimistic concurrency: bumped on every save, so two replicas cannot both accept one code. */
  version: number;
}

/** The AAD binds a ciphertext to its row: a secret copied to another user's row does not open. */
const aad = (orgId: string, userId: string) => `totp:${orgId}:${userId}`;

export function sealSecret(serverSecret: string, orgId: string, userId: string, secret: string): string {
  return seal(deriveKey(serverSecret, 'totp'), secret, aad(orgId, userId));
}

export function openSecret(serverSecret: string, record: Pick<TotpRecord, 'orgId' | 'userId' | 'sealedSecret'>): string {
  return open(deriveKey(serverSecret, 'totp'), record.sealedSecret, aad(record.orgId, record.userId));
}

export const otpauthUri = (secret: string, account: string) => generateURI({ issuer: TOTP_ISSUER, label: account, secret });

/** "ABCD EFGH …" for typing the secret by hand. */
export const groupSecret = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ');

/** A 6-digit code; spaces and dashes people paste ("123 456") are ignored. */
export function parseCode(raw: string | null | undefined): string {
  const code = (raw ?? '').replace(/[\s-]/g, '');
  if (!/^\d{6}$/.test(code)) throw invalid('Enter the 6-digit code from your authenticator app.');
  return code;
}

export function lockedUntil(record: TotpRecord | null, now: Date): Date | null {
  return record?.lockedUntil && record.lockedUntil.getTime() > now.getTime() ? record.lockedUntil : null;
}

/** How long the `n`-th lockout in a row lasts (n ≥ 1): 15 min, 30, 60 … capped at 24 h. */
export function lockoutMs(n: number): number {
  return Math.min(MAX_LOCKOUT_MS, LOCKOUT_MS * 2 ** Math.min(Math.max(n, 1) - 1, 20));
}

/** Whether the `n`-th lockout in a row is told to the org admins (repeated guessing, not one slip). */
export const reportLockout = (n: number) => n >= REPORT_LOCKOUTS_FROM;

/** "15 minutes", "2 hours", "24 hours". */
export function lockoutLabel(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes % 60 !== 0) return `${minutes} minutes`;
  const hours = minutes / 60;
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}

const minutesLeft = (until: Date, now: Date) => Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));

function timeLeft(until: Date, now: Date): string {
  const minutes = minutesLeft(until, now);
  if (minutes <= 90) return `${minutes} more minute${minutes === 1 ? '' : 's'}`;
  return `${Math.ceil(minutes / 60)} more hours`;
}

export const lockedMessage = (until: Date, now: Date) => `Too many wrong codes: two-factor actions are locked for ${timeLeft(until, now)}.`;

export interface NewEnrollment {
  record: TotpRecord;
  secret: string;
  uri: string;
}

/**
 * Starts (or restarts) an enrollment. A pending enrollment is replaced by a new secret; its
 * lockout state is kept so re-enrolling cannot reset a lock.
 */
export function startEnrollment(
  serverSecret: string,
  at: { orgId: string; userId: string; account: string },
  previous: TotpRecord | null,
  now: Date,
): NewEnrollment {
  const secret = generateSecret();
  const record: TotpRecord = {
    orgId: at.orgId,
    userId: at.userId,
    sealedSecret: sealSecret(serverSecret, at.orgId, at.userId, secret),
    status: 'pending',
    lastTimeStep: null,
    failedAttempts: previous?.failedAttempts ?? 0,
    lockedUntil: previous?.lockedUntil ?? null,
    lockouts: previous?.lockouts ?? 0,
    createdAt: now,
    activatedAt: null,
    updatedAt: now,
    version: (previous?.version ?? 0) + 1,
  };
  return { record, secret, uri: otpauthUri(secret, at.account) };
}

export type CheckFailure = 'malformed' | 'locked' | 'wrong' | 'replayed';
export type CheckResult =
  | { ok: true; record: TotpRecord; timeStep: number }
  | { ok: false; reason: CheckFailure; message: string; record: TotpRecord; lockedNow?: boolean };

/**
 * Checks a code against the record at `now`. Success records the time step, clears failures and
 * lockouts and activates a pending enrollment. A wrong or replayed code counts towards the lockout; a malformed
 * one (a typo such as 5 digits) does not. While locked, no code is even tried.
 */
export async function checkCode(serverSecret: string, record: TotpRecord, raw: string, now: Date): Promise<CheckResult> {
  const until = lockedUntil(record, now);
  if (until) return { ok: false, reason: 'locked', message: lockedMessage(until, now), record };
  let code: string;
  try {
    code = parseCode(raw);
  } catch (e) {
    return { ok: false, reason: 'malformed', message: (e as Error).message, record };
  }
  const secret = openSecret(serverSecret, record);
  const epoch = Math.floor(now.getTime() / 1000);
  const options = { secret, token: code, epoch, epochTolerance: TOTP_TOLERANCE_S };
  const result = await verify(record.lastTimeStep === null ? options : { ...options, afterTimeStep: record.lastTimeStep });
  const base = { ...record, updatedAt: now, version: record.version + 1 };
  // The union also covers HOTP results; a TOTP success always carries its time step.
  if (result.valid && 'timeStep' in result) {
    return {
      ok: true,
      timeStep: result.timeStep,
      record: {
        ...base,
        status: 'active',
        activatedAt: record.activatedAt ?? now,
        lastTimeStep: result.timeStep,
        failedAttempts: 0,
        lockedUntil: null,
        lockouts: 0,
      },
    };
  }
  // Tell a replay apart from a wrong code, for an honest message (it counts as a failure either way).
  const replayed = record.lastTimeStep !== null && (await verify(options)).valid;
  const failures = record.failedAttempts + 1;
  if (failures >= MAX_FAILURES) {
    const lockouts = record.lockouts + 1;
    const lock = new Date(now.getTime() + lockoutMs(lockouts));
    return {
      ok: false,
      reason: replayed ? 'replayed' : 'wrong',
      lockedNow: true,
      message: `That code is ${replayed ? 'already used' : 'wrong'}. ${lockedMessage(lock, now)}`,
      record: { ...base, failedAttempts: 0, lockedUntil: lock, lockouts },
    };
  }
  const left = MAX_FAILURES - failures;
  const tail = `${left} attempt${left === 1 ? '' : 's'} left before two-factor actions lock for ${lockoutLabel(lockoutMs(record.lockouts + 1))}.`;
  return {
    ok: false,
    reason: replayed ? 'replayed' : 'wrong',
    message: replayed ? `That code was already used: wait for the next one from your app. ${tail}` : `That code is wrong. ${tail}`,
    record: { ...base, failedAttempts: failures, lockedUntil: null },
  };
}

/** What a sensitive action asks of this user: nothing, a fresh code, or to enroll first. */
export type StepUp = 'none' | 'code' | 'enroll';

export function stepUpRequirement(record: TotpRecord | null, orgRequires2fa: boolean): StepUp {
  if (record?.status === 'active') return 'code';
  return orgRequires2fa ? 'enroll' : 'none';
}

export const ENROLL_FIRST_MESSAGE =
  'This action needs two-factor authentication, which is required in this workspace. Run `/keyward 2fa enroll` and finish with `/keyward 2fa verify <code>` first.';
