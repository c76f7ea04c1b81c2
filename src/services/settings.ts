/**
 * Org and project settings of `/keyward settings` and `keyward settings`: the org default alert
 * channel, the weekly digest schedule and digest channels. The default digest cron
 * (KEYWARD_DIGEST_CRON) is passed by the adapter, which has the configuration.
 */
import { isUniqueViolation } from '../db/errors.js';
import { forbidden } from '../domain/errors.js';
import { latestSlot, parseCron } from '../domain/jobs.js';
import {
  digestChannelOf, digestCronOf, digestJobName, nextDigest, parseOrgSettings, parseProjectSettings, DIGEST_OFF,
  type OrgSettingChanges, type ProjectSettingChanges,
} from '../domain/settings.js';
import { audit } from './audit.js';
import { nowOf, tzOf, type Actor, type ServiceDeps } from './context.js';
import type { ProjectService } from './projects.js';

export interface ProjectDigestView {
  name: string;
  digestChannelId: string | null;
  alertChannelId: string | null;
  /** Where its digest goes now (null: nowhere, it is skipped). */
  digestTo: string | null;
}

export interface OrgSettingsView {
  alertChannelId: string | null;
  digestChannelId: string | null;
  /** The schedule in force (null = off) and where it comes from. */
  digestCron: string | null;
  digestSource: 'org' | 'default' | 'off';
  nextDigestAt: Date | null;
  timezone: string;
  projects: ProjectDigestView[];
}

export class SettingsService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly projects: ProjectService,
  ) {}

  private now() {
    return nowOf(this.deps);
  }
  private get tz() {
    return tzOf(this.deps);
  }

  async showOrg(actor: Actor, defaultCron: string): Promise<OrgSettingsView> {
    if (!actor.orgAdmin) throw forbidden('Only organisation admins can see and change the org settings.');
    const { db } = this.deps;
    const org = await db.org.findUniqueOrThrow({ where: { id: actor.orgId } });
    const projects = await db.project.findMany({ where: { orgId: actor.orgId, archivedAt: null }, orderBy: { name: 'asc' } });
    return {
      alertChannelId: org.alertChannelId,
      digestChannelId: org.digestChannelId,
      digestCron: digestCronOf(org.digestCron, defaultCron),
      digestSource: org.digestCron === DIGEST_OFF ? 'off' : org.digestCron ? 'org' : 'default',
      nextDigestAt: nextDigest(org.digestCron, defaultCron, this.now(), this.tz),
      timezone: this.tz,
      projects: projects.map((p) => ({ name: p.name, digestChannelId: p.digestChannelId, alertChannelId: p.alertChannelId, digestTo: digestChannelOf(org, p) })),
    };
  }

  /** `channel=`, `digest=`, `digest-channel=` (raw words or parsed). Audited. */
  async setOrg(actor: Actor, input: string[] | OrgSettingChanges, defaultCron: string): Promise<OrgSettingsView> {
    if (!actor.orgAdmin) throw forbidden('Only organisation admins can see and change the org settings.');
    const changes = Array.isArray(input) ? parseOrgSettings(input) : input;
    const now = this.now();
    const { db } = this.deps;
    const before = await db.$transaction(async (tx) => {
      const org = await tx.org.findUniqueOrThrow({ where: { id: actor.orgId } });
      await tx.org.update({ where: { id: actor.orgId }, data: changes });
      await audit(tx, actor, now, {
        action: 'org.settings_set', targetType: 'org', targetId: actor.orgId,
        details: { changes, before: { alertChannelId: org.alertChannelId, digestCron: org.digestCron, digestChannelId: org.digestChannelId } },
      });
      return org;
    });
    if (changes.digestCron !== undefined && changes.digestCron !== before.digestCron) {
      await this.skipPastSlot(actor.orgId, digestCronOf(changes.digestCron, defaultCron), now);
    }
    return this.showOrg(actor, defaultCron);
  }

  /**
   * A new schedule starts with its next slot: the latest past one is marked skipped, or the
   * digest job's catch-up would send a digest right after the change.
   */
  private async skipPastSlot(orgId: string, cron: string | null, now: Date) {
    const slot = cron ? latestSlot(parseCron(cron), now, this.tz) : null;
    if (!slot) return;
    try {
      await this.deps.db.jobRun.create({
        data: { job: digestJobName(orgId), slot, claimedBy: 'settings', claimedAt: now, finishedAt: now, status: 'skipped', result: '"schedule changed"' },
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error; // that slot already ran
    }
  }

  async showProject(actor: Actor, name: string): Promise<ProjectDigestView> {
    const { project } = await this.projects.require(actor, name, 'project.view');
    const org = await this.deps.db.org.findUniqueOrThrow({ where: { id: actor.orgId } });
    return { name: project.name, digestChannelId: project.digestChannelId, alertChannelId: project.alertChannelId, digestTo: digestChannelOf(org, project) };
  }

  /** `digest-channel=<#channel>|default` of a project (project Admins). Audited. */
  async setProject(actor: Actor, name: string, input: string[] | ProjectSettingChanges): Promise<ProjectDigestView> {
    const changes = Array.isArray(input) ? parseProjectSettings(input) : input;
    const { project } = await this.projects.require(actor, name, 'project.settings');
    const now = this.now();
    await this.deps.db.$transaction(async (tx) => {
      await tx.project.update({ where: { id: project.id }, data: changes });
      await audit(tx, actor, now, {
        action: 'project.settings_set', projectId: project.id, targetType: 'project', targetId: project.id,
        details: { changes, before: { digestChannelId: project.digestChannelId } },
      });
    });
    return this.showProject(actor, project.name);
  }
}
