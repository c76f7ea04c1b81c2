import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange } from '../../src/domain/addresses.js';
import { verifyWebhook } from '../../src/domain/webhooks.js';
import { runAlerts } from '../../src/jobs/alerts.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import type { RecordingNotifier } from '../../src/services/notifier.js';
import { jobWorld, seedProject } from './world.js';

// The webhook receiver below listens on loopback, which only this setting lets alerts reach.
const w = jobWorld({ webhookAllowPrivate: [parseRange('127.0.0.1/32')!] });
const USD = 1_000_000n;

const alertPosts = (n: RecordingNotifier, to?: string) =>
  n.sent.filter((s) => s.kind === 'post' && (!to || s.to === to) && /limit|soft/i.test(s.message?.text ?? ''));

describe('threshold alerts', () => {
  let web: Awaited<ReturnType<typeof seedProject>>;
  beforeAll(async () => {
    web = await seedProject(w, 'web');
    await w.s.limits.set(web.admin, 'web', ['hard=100', 'notify=channel,admins']);
  });

  it('sends each reached threshold once, across runs, restarts and a crossing during downtime', async () => {
    w.set('2026-11-26T10:00:00Z');
    await w.spend(web.project.id, 60n * USD);
    await w.usage({ day: '2026-11-20', projectId: web.project.id, keyId: web.key.id, cost: 60n * USD });
    const first = w.deps();
    await runAlerts(w.clock, first);
    const posts = alertPosts(first.notifier, 'CALERTS');
    expect(posts.map((p) => p.message!.text)).toEqual(['Project web reached 50% of its hard limit: $60.00 of $100.00 (2026-11).']);
    // Project Admins are DM'd (notify includes admins).
    expect(first.notifier.sent.filter((s) => s.kind === 'dm').map((s) => s.to)).toEqual(['UADM', 'UBOSS']); // the creator is an Admin too
    const blocks = JSON.stringify(posts[0]!.message!.blocks);
    expect(blocks).toContain('web-key');
    expect(posts[0]!.message!.blocks!.length).toBeLessThanOrEqual(50);

    // Same process again, then a "restarted" process: nothing new.
    await runAlerts(new Date('2026-11-26T10:01:00Z'), first);
    const restarted = w.deps();
    await runAlerts(new Date('2026-11-26T10:02:00Z'), restarted);
    expect(alertPosts(first.notifier)).toHaveLength(1);
    expect(restarted.notifier.sent).toHaveLength(0);

    // Down from 10:02 to 14:00 while spend went from 60 to 95: 75 and 90 are sent once on the next run.
    await w.spend(web.project.id, 95n * USD);
    const after = w.deps();
    await runAlerts(new Date('2026-11-26T14:00:00Z'), after);
    await runAlerts(new Date('2026-11-26T14:01:00Z'), after);
    expect(alertPosts(after.notifier, 'CALERTS').map((p) => p.message!.text)).toEqual([
      'Project web reached 75% of its hard limit: $95.00 of $100.00 (2026-11).',
      'Project web reached 90% of its hard limit: $95.00 of $100.00 (2026-11).',
    ]);
    const rows = await w.db.alert.findMany({ where: { limitId: `prj:${web.project.id}` }, orderBy: { eventKey: 'asc' } });
    expect(rows.map((r) => [r.eventKey, r.channelStatus, r.adminsStatus, r.webhookStatus, r.sentAt !== null])).toEqual([
      ['pct:50', 'sent', 'sent', 'skipped', true],
      ['pct:75', 'sent', 'sent', 'skipped', true],
      ['pct:90', 'sent', 'sent', 'skipped', true],
    ]);

    // A new month starts over.
    await w.spend(web.project.id, 55n * USD, new Date('2026-12-02T10:00:00Z'));
    const december = w.deps();
    await runAlerts(new Date('2026-12-02T10:00:00Z'), december);
    expect(alertPosts(december.notifier).map((p) => p.message!.text)).toEqual(['Project web reached 50% of its hard limit: $55.00 of $100.00 (2026-12).']);
  });

  it('two scheduler instances on one database send every alert exactly once', async () => {
    const { project } = await seedProject(w, 'api', 'CAPI');
    await w.s.limits.set(w.user('UBOSS', true), 'api', ['hard=10', 'soft=4']);
    await w.spend(project.id, 9n * USD, new Date('2026-11-26T11:00:00Z'));
    const a = w.deps();
    const b = w.deps();
    const now = new Date('2026-11-26T11:00:10Z');
    const [ra, rb] = await Promise.all([new Scheduler(a, () => now).tick('alerts'), new Scheduler(b, () => now).tick('alerts')]);
    expect([ra.ran, rb.ran].sort()).toEqual([false, true]);
    // Overlapping unclaimed runs (e.g. a slow run and the next minute's) still deliver each row once.
    await w.spend(project.id, 10n * USD, new Date('2026-11-26T11:01:00Z'));
    const later = new Date('2026-11-26T11:01:10Z');
    await Promise.all([runAlerts(later, a), runAlerts(later, b)]);
    const texts = [...alertPosts(a.notifier, 'CAPI'), ...alertPosts(b.notifier, 'CAPI')].map((p) => p.message!.text).sort();
    expect(texts).toEqual([
      'Project api passed its soft limit: $9.00 of $4.00 this period (2026-11).',
      'Project api reached 100% of its hard limit: $10.00 of $10.00 (2026-11).',
      'Project api reached 50% of its hard limit: $9.00 of $10.00 (2026-11).',
      'Project api reached 75% of its hard limit: $9.00 of $10.00 (2026-11).',
      'Project api reached 90% of its hard limit: $9.00 of $10.00 (2026-11).',
    ]);
  });

  it('Slack errors never crash the job nor lose the alert: retries, then admins are told once', async () => {
    const { project } = await seedProject(w, 'ops', 'COPS');
    await w.s.limits.set(w.user('UBOSS', true), 'ops', ['hard=100', 'thresholds=10,20']);
    await w.spend(project.id, 15n * USD, new Date('2026-11-26T12:00:00Z'));
    const d = w.deps();
    d.notifier.failures.set('COPS', ['ratelimited']);
    await runAlerts(new Date('2026-11-26T12:00:00Z'), d);
    let row = await w.db.alert.findUniqueOrThrow({ where: { id: `prj:${project.id}:2026-11:pct:10` } });
    expect([row.channelStatus, row.channelAttempts, row.sentAt]).toEqual(['pending', 1, null]);
    expect(row.nextAttemptAt!.getTime()).toBe(new Date('2026-11-26T12:00:05Z').getTime()); // SLACK_RETRY base 5 s
    await runAlerts(new Date('2026-11-26T12:00:02Z'), d); // not yet due
    expect(alertPosts(d.notifier, 'COPS')).toHaveLength(0);
    await runAlerts(new Date('2026-11-26T12:01:00Z'), d);
    expect(alertPosts(d.notifier, 'COPS')).toHaveLength(1);

    // The bot was removed from the channel: the record stays (failed), admins hear it once.
    d.notifier.failures.set('COPS', ['not_in_channel', 'not_in_channel']);
    await w.spend(project.id, 25n * USD, new Date('2026-11-26T12:02:00Z'));
    await runAlerts(new Date('2026-11-26T12:02:00Z'), d);
    row = await w.db.alert.findUniqueOrThrow({ where: { id: `prj:${project.id}:2026-11:pct:20` } });
    expect([row.channelStatus, row.lastError, row.sentAt !== null]).toEqual(['failed', 'channel: not_in_channel', true]);
    const told = d.notifier.sent.filter((s) => s.kind === 'dm' && /could not deliver/.test(s.message!.text));
    expect(told.map((s) => s.to)).toEqual(['UADM', 'UBOSS']); // the creator is an Admin too
    expect(told[0]!.message!.text).toContain('invite @keyward');
    // /limits shows the failure.
    expect((await w.s.limits.show(w.user('UADM'), 'ops')).lastDeliveryError?.error).toBe('channel: not_in_channel');

    // Another alert to the same broken channel: no second notice.
    await w.s.limits.set(w.user('UBOSS', true), 'ops', ['thresholds=10,20,30']);
    await w.spend(project.id, 35n * USD, new Date('2026-11-26T12:03:00Z'));
    await runAlerts(new Date('2026-11-26T12:03:00Z'), d);
    expect(d.notifier.sent.filter((s) => s.kind === 'dm' && /could not deliver/.test(s.message!.text))).toHaveLength(2);
  });
});

describe('alert webhook', () => {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  let answer = 200;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answer).end();
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts signed JSON a receiver can verify, retrying with backoff after failures', async () => {
    const { project } = await seedProject(w, 'hooked', null);
    await w.s.limits.set(w.user('UBOSS', true), 'hooked', ['hard=50', 'thresholds=50', 'notify=webhook', 'webhook=https://example.com/hook']);
    // The receiver runs on loopback over http; the stored https URL is swapped for it here only.
    await w.db.limit.update({ where: { id: `prj:${project.id}` }, data: { webhookUrl: url } });
    await w.spend(project.id, 30n * USD, new Date('2026-11-26T13:00:00Z'));
    const d = w.deps();
    answer = 503;
    const t1 = new Date('2026-11-26T13:00:00Z');
    await runAlerts(t1, d);
    let row = await w.db.alert.findFirstOrThrow({ where: { limitId: `prj:${project.id}` } });
    expect([row.webhookStatus, row.webhookAttempts, row.channelStatus, row.adminsStatus]).toEqual(['pending', 1, 'skipped', 'skipped']);
    expect(row.nextAttemptAt!.getTime() - t1.getTime()).toBe(30_000); // WEBHOOK_RETRY base, jitter 0.5
    answer = 200;
    const t2 = new Date('2026-11-26T13:01:00Z');
    await runAlerts(t2, d);
    row = await w.db.alert.findFirstOrThrow({ where: { limitId: `prj:${project.id}` } });
    expect([row.webhookStatus, row.webhookAttempts, row.sentAt?.toISOString()]).toEqual(['sent', 2, t2.toISOString()]);

    expect(received).toHaveLength(2);
    const last = received[1]!;
    const secret = (await w.s.limits.show(w.user('UBOSS', true), 'hooked')).webhookSigningSecret!;
    expect(secret).toMatch(/^whsec_/);
    expect(verifyWebhook({ secret, body: last.body, headers: last.headers as Record<string, string>, now: t2 })).toEqual({ ok: true });
    expect(verifyWebhook({ secret: 'whsec_wrong', body: last.body, headers: last.headers as Record<string, string>, now: t2 })).toEqual({ ok: false, reason: 'mismatch' });
    const payload = JSON.parse(last.body);
    expect(payload).toMatchObject({ type: 'limit.threshold', threshold: 50, project: { name: 'hooked' }, spend: { usd: '$30.00' }, limit: { usd: '$50.00', kind: 'hard' } });
    expect(last.headers['x-keyward-delivery']).toBe(row.id);
  });

  it("signs each limit's alerts with that webhook's own secret: one project's secret does not verify another's alert", async () => {
    const boss = w.user('UBOSS', true);
    const secrets: Record<string, string> = {};
    for (const name of ['left', 'right']) {
      const { project } = await seedProject(w, name, null);
      secrets[name] = (await w.s.limits.set(boss, name, ['hard=50', 'thresholds=50', 'notify=webhook', `webhook=https://${name}.example.com/hook`])).webhookSigningSecret!;
      await w.db.limit.update({ where: { id: `prj:${project.id}` }, data: { webhookUrl: url } });
      await w.spend(project.id, 30n * USD, new Date('2026-11-26T14:00:00Z'));
    }
    answer = 200;
    const from = received.length;
    const t = new Date('2026-11-26T14:00:00Z');
    await runAlerts(t, w.deps());
    const got = received.slice(from).map((r) => ({ name: JSON.parse(r.body).project.name as string, ...r }));
    expect(got.map((g) => g.name).sort()).toEqual(['left', 'right']);
    for (const g of got) {
      const check = (secret: string) => verifyWebhook({ secret, body: g.body, headers: g.headers as Record<string, string>, now: t }).ok;
      expect(check(secrets[g.name]!)).toBe(true);
      expect(check(secrets[g.name === 'left' ? 'right' : 'left']!)).toBe(false);
    }
  });
});
