/**
 * Access reviews (issue 5): start (by hand or the quarterly slot, exactly once), snapshot, Keep /
 * Revoke (any Revoke wins and acts at once), reminders, close with a CSV. Rules: src/domain/reviews.ts.
 */
import type { Db } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { conflict, DomainError, forbidden, notFound } from '../domain/errors.js';
import type { Environment } from '../domain/keys.js';
import {
  closeCampaign, decideItem, itemsVisibleTo, keepAllRemaining, newCampaign, quarterCampaignDue, reminderDue, reviewCsv, reviewersFor,
  reviewProgress, snapshotItems, type Campaign, type ReviewDecision, type ReviewFlag, type ReviewItem,
} from '../domain/reviews.js';
import type { Role } from '../domain/roles.js';
import { audit } from './audit.js';
import { nowOf, systemActor, tzOf, type Actor, type ServiceDeps } from './context.js';
import type { KeyService } from './keys.js';
import type { ProjectService } from './projects.js';
import type { StepUpEvidence, StepUpProof, TotpService } from './totp.js';

type CampaignRow = Awaited<ReturnType<Db['reviewCampaign']['findFirstOrThrow']>>;
type ItemRow = Awaited<ReturnType<Db['reviewItem']['findFirstOrThrow']>>;

const toCampaign = (c: CampaignRow): Campaign => ({ ...c, status: c.status as Campaign['status'], unreviewed: c.unreviewed as ReviewDecision | null });
const toItem = (i: ItemRow): ReviewItem => ({
  ...i,
  kind: i.kind as ReviewItem['kind'],
  environment: i.environment as Environment | null,
  flags: i.flags ? (i.flags.split(' ') as ReviewFlag[]) : [],
  decision: i.decision as ReviewDecision | null,
});

export class ReviewService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly projects: ProjectService,
    private readonly keys: KeyService,
    private readonly totp: TotpService,
  ) {}

  private now() {
    return nowOf(this.deps);
  }
  get timeZone() {
    return tzOf(this.deps);
  }

  async current(orgId: string): Promise<Campaign | null> {
    const row = await this.deps.db.reviewCampaign.findFirst({ where: { orgId }, orderBy: [{ status: 'desc' }, { startedAt: 'desc' }] });
    // 'open' sorts after 'closed' descending: an open campaign wins, else the latest closed one.
    return row ? toCampaign(row) : null;
  }

  async requireOpen(orgId: string): Promise<Campaign> {
    const c = await this.current(orgId);
    if (!c || c.status !== 'open') throw notFound('No access review is open. Org admins start one with `/keyward review start`.');
    return c;
  }

  /** Starts a campaign (org admins, or the quarterly job with `slot`). Null when the slot already ran. */
  async start(actor: Actor, opts: { dueDays?: number; slot?: string } = {}): Promise<{ campaign: Campaign; items: ReviewItem[] } | null> {
    if (!actor.orgAdmin) throw forbidden('Only org admins start an access review.');
    const { db } = this.deps;
    const open = await db.reviewCampaign.findFirst({ where: { orgId: actor.orgId, status: 'open' } });
    if (open) throw conflict(`Access review \`${open.id}\` is still open: close it first with \`/keyward review close --unreviewed keep|revoke\`.`);
    const now = this.now();
    const campaign = newCampaign({ orgId: actor.orgId, startedBy: actor.userId ?? actor.id, slot: opts.slot ?? null, ...(opts.dueDays ? { dueDays: opts.dueDays } : {}) }, now, this.timeZone);
    const projects = await db.project.findMany({ where: { orgId: actor.orgId, archivedAt: null }, include: { members: true, keys: { where: { status: 'active' } } } });
    const seen = await db.slackUser.findMany({ where: { orgId: actor.orgId } });
    const lastSeen = new Map(seen.map((u) => [u.userId, u.lastSeenAt]));
    const items = projects.flatMap((p) =>
      snapshotItems(campaign.id, {
        id: p.id, name: p.name,
        members: p.members.map((m) => ({ userId: m.userId, role: m.role as Role, addedAt: m.createdAt })),
        keys: p.keys.map((k) => ({ ...k, environment: k.environment as Environment })),
      }, lastSeen, now));
    try {
      await db.$transaction(async (tx) => {
        await tx.reviewCampaign.create({ data: { ...campaign, lastReminderAt: null } });
        for (const i of items) await tx.reviewItem.create({ data: { ...i, flags: i.flags.join(' ') } });
        await audit(tx, actor, now, {
          action: 'review.started', targetType: 'review', targetId: campaign.id,
          details: { slot: campaign.slot, dueAt: campaign.dueAt.toISOString(), items: items.length, projects: projects.length },
        });
      });
    } catch (error) {
      if (opts.slot && isUniqueViolation(error)) return null;
      throw error;
    }
    return { campaign, items };
  }

  /** The quarterly job: starts this quarter's campaign for every org that is due (unique slot: exactly once). */
  async startQuarterly(): Promise<{ campaign: Campaign; items: ReviewItem[] }[]> {
    const now = this.now();
    const out = [];
    for (const org of await this.deps.db.org.findMany()) {
      const last = await this.deps.db.reviewCampaign.findFirst({ where: { orgId: org.id, slot: { not: null } }, orderBy: { startedAt: 'desc' } });
      const slot = quarterCampaignDue(now, this.timeZone, org.createdAt, last?.slot ?? null);
      if (!slot) continue;
      try {
        const started = await this.start(systemActor(org.id), { slot });
        if (started) out.push(started);
      } catch (error) {
        // A campaign started by hand is still open: the quarter's starts once that one is closed.
        if (!(error instanceof DomainError && error.code === 'conflict')) throw error;
      }
    }
    return out;
  }

  async items(campaignId: string, projectId?: string): Promise<ReviewItem[]> {
    const rows = await this.deps.db.reviewItem.findMany({ where: { campaignId, ...(projectId ? { projectId } : {}) }, orderBy: { id: 'asc' } });
    return rows.map(toItem);
  }

  /** Reviewers per project: its Admins (now), else the org admins. */
  async reviewers(items: readonly ReviewItem[], orgAdmins: readonly string[]): Promise<Map<string, string[]>> {
    const ids = [...new Set(items.map((i) => i.projectId))];
    const members = await this.deps.db.membership.findMany({ where: { projectId: { in: ids } } });
    return new Map(ids.map((id) => [id, reviewersFor(members.filter((m) => m.projectId === id).map((m) => ({ userId: m.userId, role: m.role as Role })), orgAdmins)]));
  }

  private async load(actor: Actor, itemId: string) {
    const row = await this.deps.db.reviewItem.findUnique({ where: { id: itemId } });
    const campaign = row ? await this.deps.db.reviewCampaign.findFirst({ where: { id: row.campaignId, orgId: actor.orgId } }) : null;
    if (!row || !campaign) throw notFound('That review item is unknown.');
    const subject = await this.projects.subject(actor, row.projectId);
    return { item: toItem(row), campaign: toCampaign(campaign), reviewer: { id: actor.userId ?? actor.id, ...subject } };
  }

  /** Refusals before a step-up modal opens (closed, already revoked, not a reviewer). */
  async checkDecidable(actor: Actor, itemId: string, decision: ReviewDecision): Promise<ReviewItem> {
    const { item, campaign, reviewer } = await this.load(actor, itemId);
    const t = decideItem(campaign, item, reviewer, decision, this.now());
    if (!t.ok) throw new DomainError(t.code, t.message);
    return item;
  }

  /**
   * Keep or Revoke one item. Revoke acts at once (membership removed / key revoked) after a TOTP
   * step-up when the reviewer is enrolled (`step`: the proof of the adapter's code check, or the code).
   */
  async decide(actor: Actor, itemId: string, decision: ReviewDecision, opts: { step?: StepUpEvidence } = {}): Promise<ReviewItem> {
    const { item, campaign, reviewer } = await this.load(actor, itemId);
    const now = this.now();
    const t = decideItem(campaign, item, reviewer, decision, now);
    if (!t.ok) throw new DomainError(t.code, t.message);
    if (t.value === item) return item; // a second Keep changes nothing
    if (decision === 'revoke') {
      await this.revokeAccess(actor, item, await this.totp.guard(actor, 'review.revoke', {}, opts.step));
    }
    // Keep only lands on an undecided item; Revoke on anything not yet revoked (any Revoke wins).
    // (`NOT: { decision: 'revoke' }` alone would skip undecided rows: SQL's NOT (NULL = x) is not true.)
    const where = decision === 'keep' ? { id: item.id, decision: null } : { id: item.id, OR: [{ decision: null }, { decision: 'keep' }] };
    const r = await this.deps.db.reviewItem.updateMany({ where, data: { decision, decidedBy: reviewer.id, decidedAt: now, auto: false } });
    if (r.count === 0) {
      const fresh = toItem(await this.deps.db.reviewItem.findUniqueOrThrow({ where: { id: item.id } }));
      if (decision === 'keep') throw conflict(`Already ${fresh.decision === 'revoke' ? 'revoked' : 'kept'} by <@${fresh.decidedBy}>.`);
      return fresh;
    }
    await audit(this.deps.db, actor, now, {
      action: decision === 'keep' ? 'review.kept' : 'review.revoked', projectId: item.projectId, targetType: item.kind === 'key' ? 'key' : 'user',
      targetId: item.subjectId, details: { campaign: campaign.id, item: item.id, flags: item.flags },
    });
    return t.value;
  }

  /** Removes the membership or revokes the key; access already gone counts as done. */
  private async revokeAccess(actor: Actor, item: ReviewItem, proof: StepUpProof | null) {
    try {
      if (item.kind === 'key') await this.keys.revoke(actor, item.subjectId, 'access review', undefined, proof);
      else await this.projects.removeMember(actor, item.projectName, item.subjectId, { step: proof });
    } catch (error) {
      const gone = error instanceof DomainError && (error.code === 'not_found' || (error.code === 'conflict' && item.kind === 'key'));
      if (!gone) throw error;
    }
  }

  async keepAll(actor: Actor, campaignId: string, projectId: string): Promise<{ kept: number; skippedOwn: number }> {
    const campaign = await this.deps.db.reviewCampaign.findFirst({ where: { id: campaignId, orgId: actor.orgId } });
    if (!campaign) throw notFound('That access review is unknown.');
    if (campaign.status === 'closed') throw conflict(`This review was closed by <@${campaign.closedBy}>.`);
    const subject = await this.projects.subject(actor, projectId);
    const items = await this.items(campaignId, projectId);
    const t = keepAllRemaining(toCampaign(campaign), items, { id: actor.userId ?? actor.id, ...subject }, this.now());
    if (!t.ok) throw new DomainError(t.code, t.message);
    let kept = 0;
    for (const i of t.value.kept) {
      const r = await this.deps.db.reviewItem.updateMany({ where: { id: i.id, decision: null }, data: { decision: 'keep', decidedBy: i.decidedBy, decidedAt: i.decidedAt } });
      kept += r.count;
    }
    await audit(this.deps.db, actor, this.now(), { action: 'review.kept_all', projectId, targetType: 'review', targetId: campaignId, details: { kept } });
    return { kept, skippedOwn: t.value.skippedOwn };
  }

  /** Closes the open campaign; unreviewed items get `unreviewed` (revoke acts now, after a step-up). */
  async close(actor: Actor, unreviewed: ReviewDecision, step?: StepUpEvidence) {
    const campaign = await this.requireOpen(actor.orgId);
    const items = await this.items(campaign.id);
    const now = this.now();
    const t = closeCampaign(campaign, items, unreviewed, { id: actor.userId ?? actor.id, orgAdmin: actor.orgAdmin }, now);
    if (!t.ok) throw new DomainError(t.code, t.message);
    const proof = await this.totp.guard(actor, 'review.close', { unreviewed }, step);
    const claimed = await this.deps.db.reviewCampaign.updateMany({
      where: { id: campaign.id, status: 'open' },
      data: { status: 'closed', closedAt: now, closedBy: t.value.campaign.closedBy, unreviewed },
    });
    if (claimed.count === 0) throw conflict('This access review was closed a moment ago.');
    const failed: string[] = [];
    for (const i of t.value.toRevoke) {
      try {
        await this.revokeAccess(actor, i, proof);
      } catch (error) {
        failed.push(`${i.subjectId}: ${(error as Error).message}`);
      }
    }
    for (const i of t.value.items.filter((x) => x.auto)) {
      await this.deps.db.reviewItem.updateMany({ where: { id: i.id, decision: null }, data: { decision: i.decision, decidedBy: i.decidedBy, decidedAt: i.decidedAt, auto: true } });
    }
    await audit(this.deps.db, actor, now, {
      action: 'review.closed', targetType: 'review', targetId: campaign.id,
      details: { unreviewed, autoDecided: t.value.items.filter((x) => x.auto).length, revokedAtClose: t.value.toRevoke.length, failed },
    });
    const final = await this.items(campaign.id);
    return { campaign: t.value.campaign, items: final, revokedAtClose: t.value.toRevoke.length, failed, csv: reviewCsv(t.value.campaign, final) };
  }

  async progress(campaign: Campaign, orgAdmins: readonly string[]) {
    const items = await this.items(campaign.id);
    return reviewProgress(items, await this.reviewers(items, orgAdmins));
  }

  /** Progress as `actor` may see it: all for org admins, their own projects for project Admins. */
  async progressFor(actor: Actor, campaign: Campaign, orgAdmins: readonly string[]) {
    const adminOf = actor.orgAdmin || !actor.userId
      ? []
      : (await this.deps.db.membership.findMany({ where: { userId: actor.userId, role: 'admin', project: { orgId: actor.orgId } }, select: { projectId: true } })).map((m) => m.projectId);
    const items = itemsVisibleTo(await this.items(campaign.id), { orgAdmin: actor.orgAdmin, adminOf });
    if (!items) throw forbidden('Access review status is shown to org admins and to project Admins (for their own projects).');
    return reviewProgress(items, await this.reviewers(items, orgAdmins));
  }

  /** Open campaigns due a reminder now; each claimed once (guarded on its last reminder time). */
  async dueReminders(): Promise<Campaign[]> {
    const now = this.now();
    const out: Campaign[] = [];
    for (const row of await this.deps.db.reviewCampaign.findMany({ where: { status: 'open' } })) {
      if (!reminderDue(row.startedAt, row.dueAt, row.lastReminderAt, now, this.timeZone)) continue;
      const r = await this.deps.db.reviewCampaign.updateMany({ where: { id: row.id, lastReminderAt: row.lastReminderAt }, data: { lastReminderAt: now } });
      if (r.count === 1) out.push(toCampaign(row));
    }
    return out;
  }

  // ---- DM bookkeeping -----------------------------------------------------------------------

  async recordMessage(campaignId: string, projectId: string, userId: string, channelId: string, ts: string) {
    const id = { campaignId, projectId, userId };
    await this.deps.db.reviewMessage.upsert({ where: { campaignId_projectId_userId: id }, create: { ...id, channelId, ts }, update: { channelId, ts } });
  }

  messages(campaignId: string, projectId?: string) {
    return this.deps.db.reviewMessage.findMany({ where: { campaignId, ...(projectId ? { projectId } : {}) } });
  }

  async campaignOf(itemId: string) {
    const item = await this.deps.db.reviewItem.findUniqueOrThrow({ where: { id: itemId } });
    return { campaign: toCampaign(await this.deps.db.reviewCampaign.findUniqueOrThrow({ where: { id: item.campaignId } })), projectId: item.projectId };
  }
}
