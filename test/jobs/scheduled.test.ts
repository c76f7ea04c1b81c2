import { beforeAll, describe, expect, it } from 'vitest';
import { runExpiry } from '../../src/jobs/expiry.js';
import { runReminders } from '../../src/jobs/reminders.js';
import { claimSlot } from '../../src/jobs/runs.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { runStatements } from '../../src/jobs/statements.js';
import { JOBS } from '../../src/domain/jobs.js';
import { jobWorld, seedProject } from './world.js';

const w = jobWorld();
const DAY = 86_400_000;
let web: Awaited<ReturnType<typeof seedProject>>;

beforeAll(async () => {
  web = await seedProject(w, 'web', 'CWEB');
  // The week before Monday 30 Nov 2026 (23–29 Nov, Berlin) and the week before that.
  await w.usage({ day: '2026-11-24', projectId: web.project.id, keyId: web.key.id, requests: 40, cost: 4_000_000n, err429: 2 });
  await w.usage({ day: '2026-11-17', projectId: web.project.id, keyId: web.key.id, requests: 20, cost: 2_000_000n });
  await w.usage({ day: '2026-10-05', projectId: web.project.id, keyId: web.key.id, requests: 7, cost: 700_000n });
});

describe('weekly digest', () => {
  it('runs once per slot across two instances, at 09:00 Berlin on Monday, with the chart in its thread', async () => {
    const monday = new Date('2026-11-30T08:00:30Z'); // 09:00:30 in Berlin
    const a = w.deps();
    const b = w.deps();
    const results = await Promise.all([new Scheduler(a, () => monday).tick('digest'), new Scheduler(b, () => monday).tick('digest')]);
    expect(results.filter((r) => r.ran)).toHaveLength(1);
    const sent = [...a.notifier.sent, ...b.notifier.sent];
    expect(sent.map((s) => [s.kind, s.to])).toEqual([
      ['post', 'CWEB'],
      ['upload', 'CWEB'],
    ]);
    expect(sent[0]!.message!.text).toBe('Weekly usage · Week 48, 2026: $4.00, 40 requests across 1 projects.');
    expect(JSON.stringify(sent[0]!.message!.blocks)).toContain('(▲ 100%)'); // week over week
    expect(sent[1]!.file).toMatchObject({ filename: 'keyward-usage-2026-W48.png' });
    expect(sent[1]!.file!.bytes).toBeGreaterThan(1000);
    // A restart later that morning catches nothing up: the slot is taken.
    const c = w.deps();
    expect(await new Scheduler(c, () => new Date('2026-11-30T09:30:00Z')).tick('digest', undefined, { catchUp: true })).toEqual({ ran: false, reason: 'not due' });
    expect(c.notifier.sent).toHaveLength(0);
  });

  it('catches a missed slot up once at start-up, and takes over a claim whose process died', async () => {
    // Down over the whole of Monday 7 Dec; up on Tuesday: the missed digest runs once.
    const tuesday = new Date('2026-12-08T10:00:00Z');
    const d = w.deps();
    const s = new Scheduler(d, () => tuesday);
    const first = await s.tick('digest', tuesday, { catchUp: true });
    expect(first.ran).toBe(true);
    const slots = await w.db.jobRun.findMany({ where: { job: `digest:${w.orgId}` }, orderBy: { slot: 'asc' } });
    expect(slots.map((r) => [r.slot.toISOString(), r.status])).toEqual([['2026-11-30T08:00:00.000Z', 'done'], ['2026-12-07T08:00:00.000Z', 'done']]);
    expect(await s.tick('digest', tuesday, { catchUp: true })).toEqual({ ran: false, reason: 'not due' });
    // A statement slot claimed by a process that died 40 minutes ago is taken over by one other process.
    const slot = new Date('2026-11-30T23:00:00Z');
    const claimedAt = new Date('2026-12-01T00:00:00Z');
    expect(await claimSlot(w.db, JOBS.statement, slot, 'dead', claimedAt)).toBe(true);
    const later = new Date(claimedAt.getTime() + 40 * 60_000);
    const takeovers = await Promise.all([claimSlot(w.db, JOBS.statement, slot, 'x', later), claimSlot(w.db, JOBS.statement, slot, 'y', later)]);
    expect(takeovers.sort()).toEqual([false, true]);
    expect(await claimSlot(w.db, JOBS.statement, slot, 'z', new Date(claimedAt.getTime() + 10 * 60_000))).toBe(false);
  });
});

describe('rotation reminders, expiry, statements', () => {
  it('reminds the owner of an old key at most once a week', async () => {
    const old = new Date(w.clock.getTime() + 95 * DAY);
    const d = w.deps();
    await runReminders(old, d);
    await runReminders(new Date(old.getTime() + 3 * DAY), w.deps()); // another process, same week
    await runReminders(new Date(old.getTime() + 8 * DAY), d);
    const dms = d.notifier.sent.filter((s) => s.kind === 'dm' && s.message!.text.includes(web.key.id));
    expect(dms.map((s) => s.to)).toEqual(['UDEV', 'UDEV']);
    expect(dms[0]!.message!.text).toBe(`Your key web-key (web) 95 days since its secret was made: rotate it with /keys rotate ${web.key.id}.`);
  });

  it('expires keys (status, audit, key change, owner told) and ends rotation grace', async () => {
    const { key } = await w.s.keys.create(w.user('UDEV'), { project: 'web', name: 'short', scope: 'inference', environment: 'dev', expiresInMs: DAY });
    const { key: rotated } = await w.s.keys.rotate(w.user('UDEV'), web.key.id, 3_600_000);
    const changesBefore = await w.db.keyChange.count();
    const d = w.deps();
    const dry = await runExpiry(new Date(w.clock.getTime() + 2 * DAY), { ...d, dryRun: true });
    expect(dry.lines).toEqual([`would expire ${key.id} (short, web) and tell <@UDEV>`, `would end the rotation grace of ${rotated.id}`]);
    expect((await w.db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).status).toBe('active');
    const other = w.deps();
    await Promise.all([runExpiry(new Date(w.clock.getTime() + 2 * DAY), d), runExpiry(new Date(w.clock.getTime() + 2 * DAY), other)]);
    const row = await w.db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(row.status).toBe('expired');
    expect((await w.db.apiKey.findUniqueOrThrow({ where: { id: rotated.id } })).prevSecretHash).toBeNull();
    expect(await w.db.auditEvent.count({ where: { action: { in: ['key.expired', 'key.grace_ended'] } } })).toBe(2);
    expect(await w.db.keyChange.count()).toBe(changesBefore + 2);
    // Either concurrent run may be the one that expires the key; together they tell the owner once.
    const dms = [...d.notifier.sent, ...other.notifier.sent].filter((s) => s.kind === 'dm');
    expect(dms.map((s) => s.message!.text)).toEqual(['Your key short (web) expired and no longer works.']);
  });

  it('uploads last month’s statement CSV to the project channel on the 1st', async () => {
    const d = w.deps();
    await runStatements(new Date('2026-11-01T06:00:00Z'), d);
    expect(d.notifier.sent.map((s) => [s.kind, s.to, s.file?.filename])).toEqual([['upload', 'CWEB', 'keyward-web-2026-10.csv']]);
  });
});
