import type { Db, Tx } from '../db/client.js';
import { newId } from '../domain/random.js';
import type { Actor } from './context.js';

export interface AuditInput {
  action: string;
  projectId?: string | null;
  targetType?: string;
  targetId?: string;
  /** Never a secret: ids, names, settings only. */
  details?: Record<string, unknown>;
}

export async function audit(tx: Tx | Db, actor: Actor, at: Date, input: AuditInput): Promise<void> {
  await tx.auditEvent.create({
    data: {
      id: newId('evt'),
      orgId: actor.orgId,
      projectId: input.projectId ?? null,
      actor: actor.id,
      action: input.action,
      targetType: input.targetType ?? null,
      targetId: input.targetId ?? null,
      details: JSON.stringify(input.details ?? {}),
      createdAt: at,
    },
  });
}

export interface AuditQuery {
  orgId: string;
  projectId?: string;
  actor?: string;
  since?: Date;
  limit?: number;
}

export async function listAudit(db: Db, q: AuditQuery) {
  const rows = await db.auditEvent.findMany({
    where: {
      orgId: q.orgId,
      ...(q.projectId ? { projectId: q.projectId } : {}),
      ...(q.actor ? { actor: q.actor } : {}),
      ...(q.since ? { createdAt: { gte: q.since } } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: q.limit ?? 50,
  });
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}
