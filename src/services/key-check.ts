import { notFound } from '../domain/errors.js';
import {
  endpointsFor, keyAdvice, keyCondition, noRefusals, parseKeyRef, refusalKind, refusalReason, REFUSAL_STATUSES,
  type RefusalCounts,
} from '../domain/key-check.js';
import type { KeyStatus } from '../domain/keys.js';
import { formatZoned } from '../domain/periods.js';
import { can } from '../domain/roles.js';
import { nowOf, tzOf, type Actor, type ServiceDeps } from './context.js';
import { describeKey, type KeyService, type KeyView } from './keys.js';
import type { LimitService, LimitView } from './limits.js';
import type { ProjectService } from './projects.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface LimitSummary {
  hardMicros: bigint | null;
  softMicros: bigint | null;
  rpm: number | null;
  itpm: number | null;
  otpm: number | null;
  spentMicros: bigint;
  usedFraction: number | null;
}

export interface KeyCheckReport {
  key: KeyView & { projectName: string };
  /** Effective status now (an active key past its expiry is expired). */
  status: KeyStatus;
  /** The previous secret still works until then (rotation grace). */
  graceUntil: Date | null;
  /** The reference was the last 4 characters of the secret the last rotation replaced. */
  matchedPrevious: boolean;
  endpoints: string[];
  /** This calendar month (org time zone); spend is what the gateways have flushed. */
  period: { key: string; resetsAt: Date; resetsAtText: string };
  limits: { project: LimitSummary; org: LimitSummary | null };
  refusals: {
    lastHour: RefusalCounts;
    lastDay: RefusalCounts;
    last: { at: Date; status: number; errorClass: string | null; reason: string } | null;
  };
  advice: string;
  checkedAt: Date;
}

export interface KeyCandidate {
  id: string;
  name: string;
  projectName: string;
  status: KeyStatus;
  hint: string;
  matchedPrevious: boolean;
}

export type KeyCheckResult = { kind: 'report'; report: KeyCheckReport } | { kind: 'ambiguous'; last4: string; candidates: KeyCandidate[] };

const summary = (v: LimitView): LimitSummary => ({
  hardMicros: v.hardMicros, softMicros: v.softMicros, rpm: v.rpm, itpm: v.itpm, otpm: v.otpm,
  spentMicros: v.spentMicros, usedFraction: v.usedFraction,
});

/** `/keys check`: why a key may be failing, for those who may see it (the same rule as `/keys show`). */
export class KeyCheckService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly projects: ProjectService,
    private readonly keys: KeyService,
    private readonly limits: LimitService,
  ) {}

  /** `ref` is a key id or the last 4 characters of a secret (current or rotated-out). */
  async check(actor: Actor, ref: string): Promise<KeyCheckResult> {
    const parsed = parseKeyRef(ref);
    if (parsed.kind === 'id') {
      const { key, project } = await this.keys.get(actor, parsed.id);
      return { kind: 'report', report: await this.report(actor, { ...describeKey(key), projectName: project.name }, false) };
    }
    const found = await this.byHint(actor, parsed.last4);
    if (found.length === 0) {
      // The same answer whether no key ends so or only keys the actor may not see do.
      throw notFound(`No key whose secret ends in "${parsed.last4}" that you can see. \`/keys list\` shows yours.`);
    }
    if (found.length > 1) {
      const now = nowOf(this.deps);
      return {
        kind: 'ambiguous', last4: parsed.last4,
        candidates: found.map(({ key, previous }) => ({
          id: key.id, name: key.name, projectName: key.projectName, status: keyCondition(key, now).status,
          hint: previous ? key.prevHint! : key.hint, matchedPrevious: previous,
        })),
      };
    }
    return { kind: 'report', report: await this.report(actor, found[0]!.key, found[0]!.previous) };
  }

  /** Keys the actor may see whose current or previous secret ends in `last4` (exact case). */
  private async byHint(actor: Actor, last4: string) {
    const rows = await this.deps.db.apiKey.findMany({
      where: { orgId: actor.orgId, OR: [{ hint: { endsWith: last4 } }, { prevHint: { endsWith: last4 } }] },
      include: { project: true },
      orderBy: { createdAt: 'desc' },
      take: 50,
    });
    const out: { key: KeyView & { projectName: string }; previous: boolean }[] = [];
    for (const row of rows) {
      const current = row.hint.endsWith(last4);
      if (!current && !row.prevHint?.endsWith(last4)) continue; // SQLite's LIKE ignores case
      const subject = await this.projects.subject(actor, row.projectId);
      if (!can(subject, 'key.list')) continue;
      out.push({ key: { ...describeKey(row), projectName: row.project.name }, previous: !current });
    }
    return out;
  }

  private async report(actor: Actor, key: KeyView & { projectName: string }, matchedPrevious: boolean): Promise<KeyCheckReport> {
    const now = nowOf(this.deps);
    const tz = tzOf(this.deps);
    const { status, graceUntil } = keyCondition(key, now);
    const [project, org, refusals] = await Promise.all([
      this.limits.show(actor, key.projectName),
      // Org-wide figures are for org admins only.
      actor.orgAdmin ? this.limits.show(actor, 'org') : Promise.resolve(null),
      this.refusals(key.projectId, key.id, now),
    ]);
    const limits = { project: summary(project), org: org ? summary(org) : null };
    const resetsAtText = formatZoned(project.period.end, tz);
    const last = refusals.last ? { ...refusals.last, reason: refusalReason(refusals.last.status, refusals.last.errorClass, status) } : null;
    const recent = Object.values(refusals.lastDay).reduce((a, b) => a + b, 0);
    return {
      key, status, graceUntil, matchedPrevious,
      endpoints: endpointsFor(key.scope),
      period: { key: project.period.key, resetsAt: project.period.end, resetsAtText },
      limits,
      refusals: { lastHour: refusals.lastHour, lastDay: refusals.lastDay, last },
      advice: keyAdvice({
        key: { status, scope: key.scope, hint: key.hint, rotatedAt: key.rotatedAt }, graceUntil, matchedPrevious,
        lastRefusal: last, recentRefusals: recent, projectName: key.projectName, limits, resetsAt: resetsAtText,
      }),
      checkedAt: now,
    };
  }

  /** 401/403/429 and spend-limit answers of one key in the last day, from the raw usage events. */
  private async refusals(projectId: string, keyId: string, now: Date) {
    const dayAgo = new Date(now.getTime() - DAY_MS);
    const hourAgo = new Date(now.getTime() - HOUR_MS);
    const refused = { OR: [{ status: { in: [...REFUSAL_STATUSES] } }, { errorClass: 'spend_limit' }] };
    const query = (since: Date) => this.deps.db.usageEvent.groupBy({
      by: ['status', 'errorClass'],
      where: { projectId, keyId, createdAt: { gte: since, lte: now }, ...refused },
      _count: { _all: true },
      _max: { createdAt: true },
    });
    const [day, hour] = await Promise.all([query(dayAgo), query(hourAgo)]);
    const count = (groups: typeof day) => {
      const c = noRefusals();
      for (const g of groups) {
        const kind = refusalKind(g.status, g.errorClass);
        if (kind) c[kind] += g._count._all;
      }
      return c;
    };
    let last: { at: Date; status: number; errorClass: string | null } | null = null;
    for (const g of day) {
      const at = g._max.createdAt;
      if (at && (!last || at > last.at)) last = { at, status: g.status, errorClass: g.errorClass };
    }
    return { lastHour: count(hour), lastDay: count(day), last };
  }
}
