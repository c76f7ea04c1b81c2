/**
 * TotpRepository on the database. `save` is a compare-and-set on `version`: an insert when no row is
 * expected (a concurrent insert fails the primary key) or an update guarded by the expected version,
 * so of two replicas checking the same code only one write lands.
 */
import type { Db } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import type { TotpRecord, TotpStatus } from '../domain/totp.js';
import { audit } from './audit.js';
import type { ServiceDeps } from './context.js';
import { TotpService, type TotpRepository } from './totp.js';

type Row = Awaited<ReturnType<Db['totpEnrollment']['findFirstOrThrow']>>;

const toRecord = ({ qrFileId: _qr, ...r }: Row): TotpRecord => ({ ...r, status: r.status as TotpStatus });

export class DbTotpRepository implements TotpRepository {
  constructor(private readonly db: Db) {}

  async get(orgId: string, userId: string) {
    const row = await this.db.totpEnrollment.findUnique({ where: { orgId_userId: { orgId, userId } } });
    return row ? toRecord(row) : null;
  }

  async save(next: TotpRecord, expectedVersion: number | null) {
    const { orgId, userId, ...data } = next;
    if (expectedVersion === null) {
      try {
        await this.db.totpEnrollment.create({ data: next });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    }
    const r = await this.db.totpEnrollment.updateMany({ where: { orgId, userId, version: expectedVersion }, data });
    return r.count === 1;
  }

  async delete(orgId: string, userId: string) {
    const r = await this.db.totpEnrollment.deleteMany({ where: { orgId, userId } });
    return r.count > 0;
  }

  async setQrFile(orgId: string, userId: string, fileId: string) {
    await this.db.totpEnrollment.updateMany({ where: { orgId, userId }, data: { qrFileId: fileId } });
  }

  async takeQrFile(orgId: string, userId: string) {
    const row = await this.db.totpEnrollment.findUnique({ where: { orgId_userId: { orgId, userId } }, select: { qrFileId: true } });
    if (!row?.qrFileId) return null;
    const r = await this.db.totpEnrollment.updateMany({ where: { orgId, userId, qrFileId: row.qrFileId }, data: { qrFileId: null } });
    return r.count === 1 ? row.qrFileId : null;
  }

  async qrFilesBefore(before: Date) {
    return this.db.totpEnrollment.findMany({ where: { qrFileId: { not: null }, createdAt: { lt: before } }, select: { orgId: true, userId: true } });
  }
}

/** The TotpService of the running app: database rows, audit log, KEYWARD_REQUIRE_2FA. */
export function createTotpService(deps: ServiceDeps): TotpService {
  return new TotpService({
    repo: new DbTotpRepository(deps.db),
    secret: deps.secret,
    requireAll: deps.require2fa ?? false,
    audit: (actor, at, input) => audit(deps.db, actor, at, input),
    ...(deps.now ? { now: deps.now } : {}),
  });
}
