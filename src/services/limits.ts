import type { Db } from '../db/client.js';
import { sqlRows } from '../db/raw.js';
import { webhookHostRefusal } from '../domain/addresses.js';
import { forbidden, invalid } from '../domain/errors.js';
import { formatUsd, type LimitChanges } from '../domain/limits.js';
import { notifyOf, parseLimitSettings, thresholdsOf, type LimitSettings, type NotifyKind } from '../domain/limit-settings.js';
import { monthPeriod, type Period } from '../domain/periods.js';
import { can } from '../domain/roles.js';
import { deriveKey, open, seal } from '../domain/crypto.js';
import { deriveWebhookSecret, newWebhookSecret } from '../domain/webhooks.js';
import { audit } from './audit.js';
import { nowOf, tzOf, type Actor, type ServiceDeps } from './context.js';
import type { ProjectService } from './projects.js';
import type { StepUpEvidence, TotpService } from './totp.js';

export const orgLimitId = (orgId: string) => `org:${orgId}`;
export const projectLimitId = (projectId: string) => `prj:${projectId}`;

export type LimitRow = Awaited<ReturnType<Db['limit']['findFirstOrThrow']>>;

export interface LimitView {
  target: 'org' | 'project';
  /** Project name, or "org". */
  name: string;
  projectId: string | null;
  hardMicros: bigint | null;
  softMicros: bigint | null;
  rpm: number | null;
  itpm: number | null;
  otpm: number | null;
  period: Period;
  /** Settled spend this month (what the gateway has flushed). */
  spentMicros: bigint;
  /** spent / hard, null without a hard limit. */
  usedFraction: number | null;
  updatedBy: string | null;
  updatedAt: Date | null;
  /** Alert settings (usage issue): percentages, where alerts go, the last delivery problem. */
  thresholds: number[];
  channelId: string | null;
  notify: NotifyKind[];
  webhookUrl: string | null;
  /** This webhook's own signing secret, only for those who manage this limit and only with a webhook set. */
  webhookSigningSecret: string | null;
  /** Set before per-webhook secrets: alerts also carry a signature under the old org-wide secret. */
  webhookLegacySigning: boolean;
  /** Latest alert delivery failure of this limit (webhook or Slack), for `/limits`. */
  lastDeliveryError: { at: Date; error: string } | null;
}

const isOrgTarget = (target: string) => target.trim().toLowerCase() === 'org';

/** Limits of projects and of the org: shown to members, changed by project Admins / org admins. */
export class LimitService {
  private readonly sealKey: Buffer;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly projects: ProjectService,
    private readonly totp: TotpService,
  ) {
    this.sealKey = deriveKey(deps.secret, 'webhook-secret');
  }

  private now() {
    return nowOf(this.deps);
  }
  private get tz() {
    return tzOf(this.deps);
  }

  /** `target` is a project name or "org". */
  async show(actor: Actor, target: string): Promise<LimitView> {
    if (isOrgTarget(target)) {
      // Org-wide limits and spend are org admins' business (as `/usage org` is).
      if (!actor.orgAdmin) throw forbidden('Only organisation admins see the org-wide limits.');
      return this.withSecret(orgLimitId(actor.orgId), await this.view(orgLimitId(actor.orgId), 'org', 'org', null), true);
    }
    const { project, subject } = await this.projects.require(actor, target, 'project.view', { allowArchived: true });
    const view = await this.view(projectLimitId(project.id), 'project', project.name, project.id);
    return this.withSecret(projectLimitId(project.id), view, can(subject, 'limits.manage'));
  }

  /** `/limits set <project|org> hard=100 rpm=60 ...`: args may be raw `name=value` words or parsed changes. */
  /** Takes a step-up (`step`: the adapter's proof, or the code) from users with 2FA. */
  async set(actor: Actor, target: string, input: string[] | LimitSettings, step?: StepUpEvidence): Promise<LimitView> {
    const settings = Array.isArray(input) ? parseLimitSettings(input) : input;
    if (settings.webhookUrl) {
      // Alerts are posted from keyward's own network: never to a private or internal address.
      const refusal = webhookHostRefusal(new URL(settings.webhookUrl).hostname, this.deps.webhookAllowPrivate ?? []);
      if (refusal) throw invalid(`webhook: ${refusal}; keyward only posts alerts to public https addresses.`);
    }
    const { thresholds, notify, rotateWebhookSecret, ...rest } = settings;
    const changes = {
      ...rest,
      ...(thresholds !== undefined ? { thresholds: thresholds === null ? null : JSON.stringify(thresholds) } : {}),
      ...(notify !== undefined ? { notify: notify === null ? null : notify.join(',') } : {}),
    };
    let id: string;
    let projectId: string | null = null;
    let name = 'org';
    if (isOrgTarget(target)) {
      if (!actor.orgAdmin) throw forbidden('Only organisation admins can change the org-wide limits.');
      id = orgLimitId(actor.orgId);
    } else {
      const { project } = await this.projects.require(actor, target, 'limits.manage');
      id = projectLimitId(project.id);
      projectId = project.id;
      name = project.name;
    }
    await this.totp.guard(actor, 'limits.set', {}, step);
    const now = this.now();
    const { db } = this.deps;
    await db.$transaction(async (tx) => {
      const before = await tx.limit.findUnique({ where: { id } });
      const url = changes.webhookUrl !== undefined ? changes.webhookUrl : (before?.webhookUrl ?? null);
      if (rotateWebhookSecret && !url) throw invalid(`${name} has no webhook, so there is no secret to rotate: set one with webhook=<https url>.`);
      const data = { ...changes, ...this.secretChange(id, before, url, rotateWebhookSecret === true), updatedBy: actor.id, updatedAt: now };
      await tx.limit.upsert({
        where: { id },
        create: { id, orgId: actor.orgId, projectId, ...data },
        update: data,
      });
      const target = { projectId, targetType: projectId ? 'project' : 'org', targetId: projectId ?? actor.orgId };
      const changed = printable(settings);
      if (Object.keys(changed).length || !rotateWebhookSecret) {
        await audit(tx, actor, now, { action: 'limits.set', ...target, details: { target: name, before: before ? printable(before) : null, changes: changed } });
      }
      if (rotateWebhookSecret) {
        await audit(tx, actor, now, { action: 'limits.webhook_secret_rotated', ...target, details: { target: name, retiredOrgWideSecret: before?.webhookLegacySigning === true } });
      }
    });
    return this.withSecret(id, await this.view(id, projectId ? 'project' : 'org', name, projectId), true);
  }

  /**
   * Secret columns for a save: no webhook, no secret; a first webhook gets its own secret; a new
   * URL or a rotation ends signing with the old org-wide secret. Rotating a webhook that was still
   * signed with the old org-wide secret retires that one and keeps the webhook's own secret (the one
   * `/limits` showed, which its receiver may already use); any later rotation makes a new secret.
   */
  private secretChange(id: string, before: LimitRow | null, url: string | null, rotate: boolean) {
    if (!url) return { webhookSecret: null, webhookLegacySigning: false };
    const fresh = () => seal(this.sealKey, newWebhookSecret(), id);
    if (rotate) return { webhookSecret: before?.webhookLegacySigning && before.webhookSecret ? before.webhookSecret : fresh(), webhookLegacySigning: false };
    if (url === before?.webhookUrl) return {};
    return { webhookSecret: before?.webhookSecret ?? fresh(), webhookLegacySigning: false };
  }

  /**
   * The secrets an alert to this limit's webhook is signed with: its own first, then the old
   * org-wide one while the webhook still relies on it. Empty without a webhook. A webhook from
   * before per-webhook secrets gets its own secret here, once (the first writer wins).
   */
  async signingSecrets(limitId: string): Promise<string[]> {
    const { db } = this.deps;
    let row = await db.limit.findUnique({ where: { id: limitId } });
    if (!row?.webhookUrl) return [];
    if (!row.webhookSecret) {
      await db.limit.updateMany({ where: { id: limitId, webhookSecret: null }, data: { webhookSecret: seal(this.sealKey, newWebhookSecret(), limitId) } });
      row = await db.limit.findUniqueOrThrow({ where: { id: limitId } });
      if (!row.webhookUrl || !row.webhookSecret) return [];
    }
    const own = open(this.sealKey, row.webhookSecret, limitId);
    return row.webhookLegacySigning ? [own, deriveWebhookSecret(this.deps.secret, row.orgId)] : [own];
  }

  /** Receivers verify `x-keyward-signature` with this secret, so whoever manages the limit sees it (and only they). */
  private async withSecret(id: string, view: LimitView, manages: boolean): Promise<LimitView> {
    if (!manages || !view.webhookUrl) return view;
    const [own] = await this.signingSecrets(id);
    return { ...view, webhookSigningSecret: own ?? null };
  }

  private async view(id: string, target: 'org' | 'project', name: string, projectId: string | null): Promise<LimitView> {
    const period = monthPeriod(this.now(), this.tz);
    const [row, budget, failed] = await Promise.all([
      this.deps.db.limit.findUnique({ where: { id } }),
      this.deps.db.budget.findUnique({ where: { limitId_period: { limitId: id, period: period.key } } }),
      this.deps.db.alert.findFirst({ where: { limitId: id, lastError: { not: null } }, orderBy: { createdAt: 'desc' } }),
    ]);
    const spentMicros = budget?.spentMicros ?? 0n;
    const hard = row?.hardMicros ?? null;
    return {
      target, name, projectId,
      hardMicros: hard, softMicros: row?.softMicros ?? null,
      rpm: row?.rpm ?? null, itpm: row?.itpm ?? null, otpm: row?.otpm ?? null,
      period, spentMicros,
      usedFraction: hard === null ? null : hard === 0n ? 1 : Number(spentMicros) / Number(hard),
      updatedBy: row?.updatedBy ?? null, updatedAt: row?.updatedAt ?? null,
      thresholds: thresholdsOf(row?.thresholds), channelId: row?.channelId ?? null,
      notify: notifyOf(row?.notify), webhookUrl: row?.webhookUrl ?? null, webhookSigningSecret: null,
      webhookLegacySigning: Boolean(row?.webhookUrl && row.webhookLegacySigning),
      lastDeliveryError: failed?.lastError ? { at: failed.nextAttemptAt ?? failed.createdAt, error: failed.lastError } : null,
    };
  }
}

/** Audit details hold money as "$12.50" strings (JSON has no BigInt). */
function printable(l: LimitChanges | LimitSettings | LimitRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if ('hardMicros' in l && l.hardMicros !== undefined) out.hard = l.hardMicros === null ? null : formatUsd(l.hardMicros);
  if ('softMicros' in l && l.softMicros !== undefined) out.soft = l.softMicros === null ? null : formatUsd(l.softMicros);
  for (const k of ['rpm', 'itpm', 'otpm', 'thresholds', 'channelId', 'notify', 'webhookUrl'] as const) {
    const v = (l as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = k === 'webhookUrl' && typeof v === 'string' ? maskUrl(v) : v;
  }
  return out;
}

/** Webhook URLs often carry a token in the path: logs and audit keep only the origin. */
export const maskUrl = (url: string) => {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '…';
  }
};

/** What the gateway enforces, as numbers (micro-dollars): read every second on every replica, on the driver. */
export interface EnforcedLimit {
  id: string;
  hardMicros: number | null;
  softMicros: number | null;
  rpm: number | null;
  itpm: number | null;
  otpm: number | null;
}
type Num = number | string | bigint | null;
const num = (v: Num) => (v === null ? null : Number(v));
export async function loadEnforcedLimits(db: Db): Promise<EnforcedLimit[]> {
  const rows = await sqlRows<{ id: string; hardMicros: Num; softMicros: Num; rpm: Num; itpm: Num; otpm: Num }>(db,
    'SELECT "id", "hardMicros", "softMicros", "rpm", "itpm", "otpm" FROM "Limit"');
  return rows.map((r) => ({
    id: r.id, hardMicros: num(r.hardMicros), softMicros: num(r.softMicros), rpm: num(r.rpm), itpm: num(r.itpm), otpm: num(r.otpm),
  }));
}
