/** A database, services on a controllable clock, a project with limits and usage, and job deps. */
import { afterAll, beforeAll } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { DEFAULT_ROTATION } from '../../src/domain/jobs.js';
import { monthPeriod } from '../../src/domain/periods.js';
import type { JobDeps } from '../../src/jobs/context.js';
import { createLogger } from '../../src/logger.js';
import { createServices, slackActor, type Actor, type Services } from '../../src/services/index.js';
import type { ServiceDeps } from '../../src/services/context.js';
import { orgLimitId, projectLimitId } from '../../src/services/limits.js';
import { RecordingNotifier } from '../../src/services/notifier.js';
import { orgForTeam } from '../../src/services/orgs.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

export const SERVER_SECRET = 'test-server-secret-0123456789abcdefghij';
/** Thursday 26 November 2026, 10:00 UTC. */
export const T0 = new Date('2026-11-26T10:00:00.000Z');
export const TZ = 'Europe/Berlin';
export const MODEL = 'claude-sonnet-4-6';

export class JobWorld {
  t = undefined as unknown as TestDatabase;
  s = undefined as unknown as Services;
  orgId = '';
  clock = new Date(T0);
  set(at: Date | string): void {
    this.clock = new Date(at);
  }
  get db(): Db {
    return this.t.db;
  }
  user(userId: string, orgAdmin = false): Actor {
    return slackActor(this.orgId, userId, orgAdmin);
  }
  /** Job deps around a fresh recording notifier (one "process"). */
  deps(over: Partial<JobDeps> = {}): JobDeps & { notifier: RecordingNotifier } {
    return {
      services: this.s,
      notifier: new RecordingNotifier(),
      slackClient: null,
      admins: ['UORG'],
      instanceId: `test-${Math.random().toString(36).slice(2, 8)}`,
      rotation: DEFAULT_ROTATION,
      digestCron: '0 9 * * 1',
      jitter: () => 0.5,
      ...over,
    } as JobDeps & { notifier: RecordingNotifier };
  }
  /** Sets the month-to-date spend of a project's (or the org's) budget. */
  async spend(projectId: string | null, micros: bigint, at: Date = this.clock): Promise<void> {
    const limitId = projectId ? projectLimitId(projectId) : orgLimitId(this.orgId);
    const period = monthPeriod(at, TZ).key;
    await this.db.budget.upsert({
      where: { limitId_period: { limitId, period } },
      create: { limitId, period, spentMicros: micros, updatedAt: at },
      update: { spentMicros: micros, updatedAt: at },
    });
  }
  /** A rollup row as the gateway writes it. */
  async usage(row: { day: string; projectId: string; keyId: string; model?: string; requests?: number; cost?: bigint; input?: number; output?: number; err429?: number; err5xx?: number }): Promise<void> {
    await this.db.usageDaily.create({
      data: {
        day: row.day, keyId: row.keyId, model: row.model ?? MODEL, orgId: this.orgId, projectId: row.projectId,
        requests: row.requests ?? 1, errors: (row.err429 ?? 0) + (row.err5xx ?? 0),
        inputTokens: BigInt(row.input ?? 100), outputTokens: BigInt(row.output ?? 50),
        costMicros: row.cost ?? 0n, err429: row.err429 ?? 0, err5xx: row.err5xx ?? 0, latencyMsSum: BigInt((row.requests ?? 1) * 400),
      },
    });
  }
}

/** One fresh database per test file, services on a controllable clock (Europe/Berlin); `extra` adds service settings. */
export function jobWorld(extra: Partial<ServiceDeps> = {}): JobWorld {
  const w = new JobWorld();
  beforeAll(async () => {
    w.t = await freshDatabase();
    w.s = createServices({ db: w.t.db, secret: SERVER_SECRET, logger: createLogger('silent'), now: () => w.clock, timezone: TZ, ...extra });
    w.orgId = await orgForTeam(w.t.db, 'T_JOBS', w.clock);
  });
  afterAll(async () => w.t?.drop());
  return w;
}

/** A project with an Admin (UADM), a Developer (UDEV, key owner) and a key; alerts channel C_ALERTS. */
export async function seedProject(w: JobWorld, name: string, channel: string | null = 'CALERTS') {
  const boss = w.user('UBOSS', true);
  await w.s.projects.create(boss, name);
  await w.s.projects.addMember(boss, name, 'UADM', 'admin');
  await w.s.projects.addMember(boss, name, 'UDEV', 'developer');
  if (channel) await w.s.projects.setChannel(boss, name, channel);
  const project = await w.db.project.findUniqueOrThrow({ where: { orgId_name: { orgId: w.orgId, name } } });
  const { key } = await w.s.keys.create(w.user('UDEV'), { project: name, name: `${name}-key`, scope: 'inference', environment: 'dev' });
  return { project, key, boss, admin: w.user('UADM') };
}
