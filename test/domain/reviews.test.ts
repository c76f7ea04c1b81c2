import { describe, expect, it } from 'vitest';
import { localParts } from '../../src/domain/calendar.js';
import { DAY } from '../../src/domain/durations.js';
import {
  closeCampaign, csvField, decideItem, dueAtFor, dueDateKey, dueLabel, isQuarterStartDay, itemsVisibleTo, keepAllRemaining, newCampaign,
  parseDueDays, quarterCampaignDue, quarterOf, reminderDue, reviewCsv, reviewProgress, reviewersFor, snapshotItems,
  type Campaign, type ReviewItem, type Reviewer, type SnapshotProject,
} from '../../src/domain/reviews.js';
import { refusal } from './helpers.js';

const NOW = new Date('2026-04-01T08:00:00Z');
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);
const TZ = 'Europe/Berlin';

const project: SnapshotProject = {
  id: 'prj_1',
  name: 'support-bot',
  members: [
    { userId: 'UACTIVE', role: 'admin', addedAt: ago(400) },
    { userId: 'UIDLE', role: 'developer', addedAt: ago(400) },
    { userId: 'UKEYUSER', role: 'developer', addedAt: ago(400) },
    { userId: 'UNEW', role: 'viewer', addedAt: ago(10) },
    { userId: 'UEDGE', role: 'viewer', addedAt: ago(90) },
  ],
  keys: [
    { id: 'key_fresh', name: 'Fresh', ownerId: 'UACTIVE', environment: 'prod', createdAt: ago(5), rotatedAt: null, lastUsedAt: ago(1) },
    { id: 'key_unused', name: 'Unused', ownerId: 'UIDLE', environment: 'dev', createdAt: ago(31), rotatedAt: null, lastUsedAt: null },
    { id: 'key_old', name: 'Old', ownerId: 'UKEYUSER', environment: 'prod', createdAt: ago(200), rotatedAt: null, lastUsedAt: ago(2) },
    { id: 'key_rotated', name: 'Rotated', ownerId: 'UKEYUSER', environment: 'prod', createdAt: ago(200), rotatedAt: ago(20), lastUsedAt: ago(40) },
  ],
};
const lastSeen = new Map<string, Date | null>([['UACTIVE', ago(3)], ['UIDLE', ago(120)], ['UKEYUSER', ago(200)]]);

function items(): ReviewItem[] {
  return snapshotItems('rev_1', project, lastSeen, NOW);
}
const item = (subject: string) => items().find((i) => i.subjectId === subject)!;
const campaign = (): Campaign => newCampaign({ orgId: 'org_1', startedBy: 'system', slot: '2026-Q2' }, NOW, TZ);
const admin: Reviewer = { id: 'UACTIVE', orgAdmin: false, role: 'admin' };
const orgAdmin: Reviewer = { id: 'UORG', orgAdmin: true, role: null };

describe('snapshot flags', () => {
  it('snapshots every membership and every key of the project', () => {
    expect(items().map((i) => `${i.kind}:${i.subjectId}`)).toEqual([
      'membership:UACTIVE', 'membership:UIDLE', 'membership:UKEYUSER', 'membership:UNEW', 'membership:UEDGE',
      'key:key_fresh', 'key:key_unused', 'key:key_old', 'key:key_rotated',
    ]);
    expect(items().every((i) => i.decision === null && i.campaignId === 'rev_1')).toBe(true);
  });
  it('flags members with neither a command nor a key use for 90 days; recent joiners are not flagged', () => {
    const flags = Object.fromEntries(items().filter((i) => i.kind === 'membership').map((i) => [i.subjectId, i.flags]));
    expect(flags).toEqual({
      UACTIVE: [], UIDLE: ['inactive_member'], UKEYUSER: [], UNEW: [], UEDGE: ['inactive_member'],
    });
    // UKEYUSER ran no command for 200 days but used a key 2 days ago.
    expect(item('UKEYUSER').lastActivityAt).toEqual(ago(2));
  });
  it('flags keys unused for 30 days and keys whose secret is older than 90 days (rotation renews it)', () => {
    expect(item('key_fresh').flags).toEqual([]);
    expect(item('key_unused').flags).toEqual(['key_unused']);
    expect(item('key_old').flags).toEqual(['key_old']);
    expect(item('key_rotated').flags).toEqual(['key_unused']);
    expect(item('key_old')).toMatchObject({ ownerId: 'UKEYUSER', label: 'Old', environment: 'prod' });
  });
  it('reviewers are the project Admins, else the org admins', () => {
    expect(reviewersFor(project.members, ['UORG'])).toEqual(['UACTIVE']);
    expect(reviewersFor([{ userId: 'UX', role: 'developer' }], ['UORG', 'UORG2'])).toEqual(['UORG', 'UORG2']);
  });
});

describe('decisions', () => {
  it('Keep and Revoke record the reviewer and time', () => {
    const t = decideItem(campaign(), item('UIDLE'), admin, 'revoke', NOW);
    expect(t).toMatchObject({ ok: true, value: { decision: 'revoke', decidedBy: 'UACTIVE', decidedAt: NOW, auto: false } });
  });
  it('any Revoke wins: it overrides a Keep, and nothing overrides it', () => {
    const c = campaign();
    const kept = decideItem(c, item('UIDLE'), admin, 'keep', NOW);
    if (!kept.ok) throw new Error(kept.message);
    const revoked = decideItem(c, kept.value, orgAdmin, 'revoke', NOW);
    if (!revoked.ok) throw new Error(revoked.message);
    expect(revoked.value).toMatchObject({ decision: 'revoke', decidedBy: 'UORG' });
    expect(decideItem(c, revoked.value, admin, 'keep', NOW)).toMatchObject({ ok: false, code: 'conflict', message: 'Already revoked by <@UORG>.' });
    expect(decideItem(c, revoked.value, admin, 'revoke', NOW)).toMatchObject({ ok: false, code: 'conflict' });
  });
  it('a second Keep keeps the first reviewer on record', () => {
    const c = campaign();
    const first = decideItem(c, item('UIDLE'), admin, 'keep', NOW);
    if (!first.ok) throw new Error();
    expect(decideItem(c, first.value, orgAdmin, 'keep', new Date(NOW.getTime() + 1))).toMatchObject({ ok: true, value: { decidedBy: 'UACTIVE', decidedAt: NOW } });
  });
  it('nobody keeps their own access; revoking it is allowed', () => {
    const c = campaign();
    expect(decideItem(c, item('UACTIVE'), admin, 'keep', NOW)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(decideItem(c, item('key_fresh'), admin, 'keep', NOW)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(decideItem(c, item('key_fresh'), admin, 'revoke', NOW).ok).toBe(true);
  });
  it('only project Admins and org admins review; nobody after close', () => {
    expect(decideItem(campaign(), item('UIDLE'), { id: 'UDEV', orgAdmin: false, role: 'developer' }, 'keep', NOW)).toMatchObject({ ok: false, code: 'forbidden' });
    const closed = { ...campaign(), status: 'closed' as const, closedBy: 'UORG' };
    expect(decideItem(closed, item('UIDLE'), admin, 'keep', NOW)).toMatchObject({ ok: false, message: 'This review was closed by <@UORG>.' });
  });
  it('keep all remaining skips decided items and the reviewer’s own', () => {
    const all = items();
    all[1] = { ...all[1]!, decision: 'revoke', decidedBy: 'UORG', decidedAt: NOW };
    const t = keepAllRemaining(campaign(), all, admin, NOW);
    if (!t.ok) throw new Error(t.message);
    expect(t.value.skippedOwn).toBe(2); // UACTIVE's membership and key_fresh
    expect(t.value.kept.map((i) => i.subjectId)).toEqual(['UKEYUSER', 'UNEW', 'UEDGE', 'key_unused', 'key_old', 'key_rotated']);
    expect(t.value.kept.every((i) => i.decision === 'keep' && i.decidedBy === 'UACTIVE')).toBe(true);
  });
});

describe('closing', () => {
  it('unreviewed items get the chosen decision (auto); revoke lists what to revoke now', () => {
    const all = items();
    const kept = decideItem(campaign(), all[1]!, admin, 'keep', NOW);
    if (!kept.ok) throw new Error();
    all[1] = kept.value;
    const t = closeCampaign(campaign(), all, 'revoke', orgAdmin, NOW);
    if (!t.ok) throw new Error(t.message);
    expect(t.value.campaign).toMatchObject({ status: 'closed', closedBy: 'UORG', unreviewed: 'revoke', closedAt: NOW });
    expect(t.value.toRevoke).toHaveLength(all.length - 1);
    expect(t.value.items[1]).toMatchObject({ decision: 'keep', auto: false });
    expect(t.value.items[0]).toMatchObject({ decision: 'revoke', auto: true, decidedBy: 'UORG' });
  });
  it('keep leaves nothing to revoke; only org admins close, once', () => {
    const t = closeCampaign(campaign(), items(), 'keep', orgAdmin, NOW);
    if (!t.ok) throw new Error();
    expect(t.value.toRevoke).toEqual([]);
    expect(closeCampaign(campaign(), items(), 'keep', admin, NOW)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(closeCampaign(t.value.campaign, items(), 'keep', orgAdmin, NOW)).toMatchObject({ ok: false, code: 'conflict', message: 'This review was already closed by <@UORG>.' });
  });
});

describe('due date', () => {
  it('defaults to the end of the 14th local day after the start', () => {
    const c = campaign(); // started 2026-04-01 10:00 Berlin
    expect(dueDateKey(c.dueAt, TZ)).toBe('2026-04-15');
    expect(localParts(c.dueAt, TZ)).toMatchObject({ hour: 23, minute: 59, second: 59 });
  });
  it('crosses a DST change by calendar days, not 24-hour blocks', () => {
    const start = new Date('2026-03-20T08:00:00Z'); // Berlin switches to summer time on 2026-03-29
    expect(dueDateKey(dueAtFor(start, 14, TZ), TZ)).toBe('2026-04-03');
    expect(dueAtFor(start, 14, TZ).toISOString()).toBe('2026-04-03T21:59:59.000Z');
  });
  it('parses --due 1d…90d', () => {
    expect(parseDueDays('21d')).toBe(21);
    refusal(() => parseDueDays('91d'));
    refusal(() => parseDueDays('two weeks'));
  });
  it('labels how far the due date is', () => {
    const due = dueAtFor(NOW, 14, TZ);
    const at = (d: number) => new Date(NOW.getTime() + d * DAY);
    expect([dueLabel(due, at(11), TZ), dueLabel(due, at(13), TZ), dueLabel(due, at(14), TZ), dueLabel(due, at(15), TZ), dueLabel(due, at(17), TZ)])
      .toEqual(['due in 3 days', 'due tomorrow', 'due today', 'overdue by 1 day', 'overdue by 3 days']);
  });
});

/** Runs a daily job at `hourUtc` from the start for `days` days; returns the day offsets that reminded. */
function simulate(start: Date, due: Date, days: number, tz: string, hourUtc = 8): number[] {
  const fired: number[] = [];
  let last: Date | null = null;
  const startDay = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  for (let d = 0; d <= days; d++) {
    const now = new Date(startDay + d * DAY + hourUtc * 3_600_000);
    if (now < start) continue;
    if (reminderDue(start, due, last, now, tz)) {
      fired.push(d);
      last = now;
    }
  }
  return fired;
}

describe('reminder cadence', () => {
  it('14-day campaign: day 7, then 3 days and 1 day before, the due date, then daily while overdue', () => {
    const due = dueAtFor(NOW, 14, TZ);
    expect(simulate(NOW, due, 18, TZ)).toEqual([7, 11, 13, 14, 15, 16, 17, 18]);
  });
  it('30-day campaign: weekly until 3 days before the due date', () => {
    expect(simulate(NOW, dueAtFor(NOW, 30, TZ), 31, TZ)).toEqual([7, 14, 21, 27, 29, 30, 31]);
  });
  it('short campaigns: no reminder on the start day', () => {
    expect(simulate(NOW, dueAtFor(NOW, 2, TZ), 3, TZ)).toEqual([1, 2, 3]);
    expect(simulate(NOW, dueAtFor(NOW, 1, TZ), 2, TZ)).toEqual([1, 2]);
  });
  it('at most one reminder per local day, and a missed week yields one reminder, not a burst', () => {
    const due = dueAtFor(NOW, 14, TZ);
    const day = (d: number, h = 8) => new Date(NOW.getTime() + d * DAY + (h - 8) * 3_600_000);
    expect(reminderDue(NOW, due, day(7), day(7, 20), TZ)).toBe(false);
    expect(reminderDue(NOW, due, null, day(12), TZ)).toBe(true); // days 7 and 11 missed: one now
    expect(reminderDue(NOW, due, day(12), day(12, 20), TZ)).toBe(false);
    expect(reminderDue(NOW, due, day(12), day(13), TZ)).toBe(true);
    expect(reminderDue(NOW, due, null, day(6), TZ)).toBe(false);
  });
  it('counts local days: a job at 23:30 UTC is already the next day in Auckland', () => {
    const tz = 'Pacific/Auckland';
    const start = new Date('2026-06-30T23:30:00Z'); // 2026-07-01 11:30 NZST
    const due = dueAtFor(start, 14, tz);
    expect(dueDateKey(due, tz)).toBe('2026-07-15');
    expect(simulate(start, due, 16, tz, 23.5)).toEqual([7, 11, 13, 14, 15, 16]);
  });
  it('is DST-safe across the spring change', () => {
    const start = new Date('2026-03-20T08:00:00Z');
    expect(simulate(start, dueAtFor(start, 14, TZ), 16, TZ)).toEqual([7, 11, 13, 14, 15, 16]);
  });
});

describe('quarter start', () => {
  it('is local midnight on the first day of the quarter in the org zone', () => {
    const q = quarterOf(new Date('2026-05-10T12:00:00Z'), TZ);
    expect(q).toEqual({ key: '2026-Q2', start: new Date('2026-03-31T22:00:00Z') });
    expect(quarterOf(new Date('2026-03-31T22:30:00Z'), TZ).key).toBe('2026-Q2');
    expect(quarterOf(new Date('2026-03-31T22:30:00Z'), 'UTC').key).toBe('2026-Q1');
    expect(quarterOf(new Date('2026-12-31T23:00:00Z'), 'Asia/Tokyo')).toEqual({ key: '2027-Q1', start: new Date('2026-12-31T15:00:00Z') });
  });
  it('where midnight does not exist (Asunción, 2023-10-01), the quarter starts at the first instant of the day', () => {
    const q = quarterOf(new Date('2023-10-05T12:00:00Z'), 'America/Asuncion');
    expect(q.key).toBe('2023-Q4');
    expect(localParts(q.start, 'America/Asuncion')).toMatchObject({ month: 10, day: 1, hour: 1, minute: 0 });
    expect(localParts(new Date(q.start.getTime() - 1000), 'America/Asuncion')).toMatchObject({ month: 9, day: 30 });
  });
  it('detects the first day of a quarter only (local date)', () => {
    expect(isQuarterStartDay(new Date('2026-03-31T22:30:00Z'), TZ)).toBe(true);
    expect(isQuarterStartDay(new Date('2026-03-31T22:30:00Z'), 'UTC')).toBe(false);
    expect(isQuarterStartDay(new Date('2026-07-01T10:00:00Z'), 'UTC')).toBe(true);
    expect(isQuarterStartDay(new Date('2026-02-01T10:00:00Z'), 'UTC')).toBe(false);
  });
  it('an automatic campaign is due once per quarter, caught up after downtime, not for orgs newer than the quarter', () => {
    const late = new Date('2026-04-09T10:00:00Z');
    expect(quarterCampaignDue(late, TZ, new Date('2025-01-01T00:00:00Z'), '2026-Q1')).toBe('2026-Q2');
    expect(quarterCampaignDue(late, TZ, new Date('2025-01-01T00:00:00Z'), '2026-Q2')).toBeNull();
    expect(quarterCampaignDue(late, TZ, new Date('2026-04-05T00:00:00Z'), null)).toBeNull();
  });
});

describe('progress', () => {
  it('counts per project and per reviewer', () => {
    const all = items();
    all[1] = { ...all[1]!, decision: 'revoke', decidedBy: 'UACTIVE', decidedAt: NOW };
    all[2] = { ...all[2]!, decision: 'keep', decidedBy: 'UORG', decidedAt: NOW, auto: true };
    const p = reviewProgress(all, new Map([['prj_1', ['UACTIVE', 'UOTHER']]]));
    expect(p.projects).toEqual([{ projectId: 'prj_1', projectName: 'support-bot', reviewers: ['UACTIVE', 'UOTHER'], total: 9, flagged: 5, kept: 1, revoked: 1, open: 7 }]);
    expect(p.reviewers).toEqual([
      { userId: 'UACTIVE', projects: 1, decided: 1, open: 7 },
      { userId: 'UOTHER', projects: 1, decided: 0, open: 7 },
    ]);
    expect([p.total, p.decided]).toEqual([9, 2]);
  });
});

describe('CSV report', () => {
  it('escapes quotes, commas, newlines and spreadsheet formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line1\nline2')).toBe('"line1\nline2"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-cmd')).toBe("'-cmd");
    expect(csvField(' padded ')).toBe('" padded "');
    expect(csvField(null)).toBe('');
    expect(csvField(new Date('2026-04-01T08:00:00Z'))).toBe('2026-04-01T08:00:00.000Z');
  });
  it('has a header and one row per item with decision, decider and time', () => {
    const all = items().map((i) => (i.subjectId === 'key_old' ? { ...i, label: 'Old, "prod"', decision: 'revoke' as const, decidedBy: 'UACTIVE', decidedAt: NOW } : i));
    const csv = reviewCsv(campaign(), all);
    const lines = csv.trimEnd().split('\r\n');
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(lines[0]).toBe('campaign,project,kind,subject,owner,role_or_key_name,environment,flags,last_activity,decision,decided_by,decided_at,decided_at_close');
    expect(lines).toHaveLength(all.length + 1);
    const row = lines.find((l) => l.includes('key_old'))!;
    expect(row).toContain(',key,key_old,UKEYUSER,"Old, ""prod""",prod,key_old,');
    expect(row).toContain(',revoke,UACTIVE,2026-04-01T08:00:00.000Z,no');
    expect(lines.filter((l) => l.includes(',unreviewed,,,no'))).toHaveLength(all.length - 1);
  });
});

describe('itemsVisibleTo (review status)', () => {
  const all = [...items(), ...items().map((i) => ({ ...i, id: `${i.id}b`, projectId: 'prj_2', projectName: 'other' }))];
  it('org admins see every item; project Admins only their projects; anyone else nothing', () => {
    expect(itemsVisibleTo(all, { orgAdmin: true, adminOf: [] })).toEqual(all);
    expect(itemsVisibleTo(all, { orgAdmin: false, adminOf: ['prj_2'] })!.map((i) => i.projectName)).toEqual(Array(items().length).fill('other'));
    expect(itemsVisibleTo(all, { orgAdmin: false, adminOf: ['prj_1', 'prj_2'] })).toHaveLength(all.length);
    expect(itemsVisibleTo(all, { orgAdmin: false, adminOf: [] })).toBeNull();
    expect(itemsVisibleTo(all, { orgAdmin: false, adminOf: ['prj_unknown'] })).toEqual([]);
  });
});
