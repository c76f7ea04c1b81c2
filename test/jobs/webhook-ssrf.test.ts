/**
 * Alert webhooks never reach private or internal addresses unless KEYWARD_WEBHOOK_ALLOW_PRIVATE
 * allows them: refused when the limit is set (literal addresses, internal names) and again when
 * connecting (whatever a name resolves to), and a receiver's answer is never shown back.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts } from '../../src/jobs/alerts.js';
import { usingPostgres } from '../helpers/db.js';
import { jobWorld, seedProject } from './world.js';

const USD = 1_000_000n;
let hits = 0;
const receiver = createServer((req, res) => {
  hits++;
  req.resume();
  req.on('end', () => res.writeHead(500, { 'content-type': 'text/plain' }).end('internal-only: db password hunter2'));
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  port = (receiver.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

describe(`webhook targets, by default (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  const w = jobWorld();

  it('/limits set refuses private addresses and internal names, and saves nothing', async () => {
    const { project, boss } = await seedProject(w, 'probe');
    await w.s.limits.set(boss, 'probe', ['webhook=https://hooks.example.com/keyward']);
    for (const [url, why] of [
      ['https://127.0.0.1/x', '127.0.0.1 is a private or reserved address'],
      ['https://2130706433/x', '127.0.0.1 is a private or reserved address'], // the URL parser's decimal form
      ['https://10.0.0.5:8443/x', '10.0.0.5 is a private or reserved address'],
      ['https://169.254.169.254/latest/meta-data', '169.254.169.254 is a private or reserved address'],
      ['https://[::1]/x', '[::1] is a private or reserved address'],
      ['https://[::ffff:192.168.0.1]/x', '[::ffff:c0a8:1] is a private or reserved address'],
      ['https://localhost/x', 'localhost is not a public host name'],
      ['https://metadata.google.internal/x', 'metadata.google.internal is an internal host name (.internal)'],
      ['https://nas.local/x', 'nas.local is an internal host name (.local)'],
    ]) {
      await expect(w.s.limits.set(boss, 'probe', [`webhook=${url}`]), url).rejects.toThrow(`webhook: ${why}; keyward only posts alerts to public https addresses.`);
    }
    const row = await w.db.limit.findUniqueOrThrow({ where: { id: `prj:${project.id}` } });
    expect(row.webhookUrl).toBe('https://hooks.example.com/keyward');
  });

  it('delivery refuses loopback, by address and by a name resolving to it, without a request reaching it', async () => {
    const { project, boss } = await seedProject(w, 'rebind');
    await w.s.limits.set(boss, 'rebind', ['hard=10', 'thresholds=50', 'notify=webhook', 'webhook=https://hooks.example.com/keyward']);
    await w.spend(project.id, 6n * USD);
    for (const url of [`http://127.0.0.1:${port}/hook`, `http://localhost:${port}/hook`, `http://[::ffff:127.0.0.1]:${port}/hook`]) {
      // As a name that passed validation and now resolves to loopback (DNS rebinding) would.
      await w.db.alert.deleteMany({ where: { limitId: `prj:${project.id}` } });
      await w.db.deliveryProblem.deleteMany();
      await w.db.limit.update({ where: { id: `prj:${project.id}` }, data: { webhookUrl: url } });
      const d = w.deps();
      await runAlerts(w.clock, d);
      const row = await w.db.alert.findFirstOrThrow({ where: { limitId: `prj:${project.id}` } });
      expect([row.webhookStatus, row.lastError], url).toEqual(['failed', 'webhook: blocked: private or reserved address']);
      const told = d.notifier.sent.filter((s) => s.kind === 'dm').map((s) => s.message!.text).join('\n');
      expect(told).toContain('private or reserved address');
    }
    expect(hits).toBe(0);
  });
});

describe(`webhook targets with KEYWARD_WEBHOOK_ALLOW_PRIVATE=127.0.0.1/32 (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  const w = jobWorld({ webhookAllowPrivate: [{ bytes: [127, 0, 0, 1], prefix: 32 }] });

  it('the allowed range is accepted and reached; other private ranges still are not; the answer body is never shown', async () => {
    const { project, boss } = await seedProject(w, 'internal');
    await w.s.limits.set(boss, 'internal', ['hard=10', 'thresholds=50', 'notify=webhook', `webhook=https://127.0.0.1:${port}/hook`]);
    await expect(w.s.limits.set(boss, 'internal', ['webhook=https://10.0.0.5/hook'])).rejects.toThrow('10.0.0.5 is a private or reserved address');
    await w.db.limit.update({ where: { id: `prj:${project.id}` }, data: { webhookUrl: `http://127.0.0.1:${port}/hook` } });
    await w.spend(project.id, 6n * USD);
    const before = hits;
    const d = w.deps();
    await runAlerts(w.clock, d);
    expect(hits).toBe(before + 1);
    const row = await w.db.alert.findFirstOrThrow({ where: { limitId: `prj:${project.id}` } });
    expect([row.webhookStatus, row.lastError]).toEqual(['pending', 'webhook: HTTP 500']);
    const view = await w.s.limits.show(boss, 'internal');
    expect(view.lastDeliveryError?.error).toBe('webhook: HTTP 500');
    expect(JSON.stringify({ row, view, sent: d.notifier.sent }, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('hunter2');
  });
});
