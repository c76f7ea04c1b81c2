import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodOf } from '../../src/domain/calendar.js';
import { dayKey } from '../../src/domain/periods.js';
import { periodLabel } from '../../src/slack/views/usage.js';
import { usingPostgres } from '../helpers/db.js';
import { createHarness, U, waitFor, type Harness } from './harness.js';

const FILES = 'https://files.slack.test';

describe(`/limits, /usage and /keyward run through Slack (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  const uploads: Buffer[] = [];
  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create web', U.org);
    for (const [user, role] of [[U.admin, 'admin'], [U.dev, 'developer'], [U.viewer, 'viewer']] as const) {
      await h.ask('/project', `add web <@${user}> ${role}`, U.org);
    }
    h.handlers.set('files.getUploadURLExternal', (b) => ({ ok: true, upload_url: `${FILES}/upload/${b.filename}`, file_id: 'F0UPLOAD' }));
    h.handlers.set('files.completeUploadExternal', () => ({ ok: true, files: [{ id: 'F0UPLOAD' }] }));
    nock(FILES)
      .persist()
      .post(/\/upload\/.*/)
      .reply(function (_uri, body) {
        uploads.push(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), typeof body === 'string' && /^[0-9a-f]+$/.test(body) ? 'hex' : 'utf8'));
        return [200, 'OK'];
      });
  });
  afterAll(async () => h?.close());

  it('/limits set: project Admins change soft, thresholds and destinations; Viewers see them; bad input is refused', async () => {
    const set = await h.ask('/limits', 'set web hard=100 soft=80 thresholds=50,90 notify=channel,admins channel=<#C0ALERTS|alerts>', U.admin);
    expect(set.text).toBe('Saved. Limits of web: hard $100.00, soft $80.00, spent $0.00 this month.');
    const shown = await h.ask('/limits', 'web', U.viewer);
    const blocks = shown.body.blocks;
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Limits · web', emoji: true } });
    expect(blocks[1].fields.map((f: { text: string }) => f.text)).toEqual([
      '*Hard limit (per month)*\n$100.00',
      '*Soft limit (per month)*\n$80.00',
      `*Spent in ${periodLabel(periodOf('month', new Date(), 'UTC'))}*\n$0.00 (0%)`,
      '*Rate limits*\nnone · none · none',
      '*Alert thresholds*\n50%, 90% of the hard limit',
      '*Alerts go to*\n<#C0ALERTS>, project Admins by DM',
    ]);
    expect((await h.ask('/limits', 'set web soft=10', U.viewer)).text).toMatch(/Admin/);
    expect((await h.ask('/limits', 'set web webhook=http://example.com/x', U.admin)).text).toBe('webhook: only https URLs are accepted (alerts carry spend data).');
    expect((await h.ask('/limits', 'web', U.outsider)).text).toContain('No project named "web"');
    expect((await h.ask('/limits', 'set org soft=5', U.admin)).text).toContain('Only organisation admins');
  });

  it('/limits edit opens a modal whose submission saves the settings', async () => {
    const { triggerId } = await h.command('/limits', 'edit web', U.admin);
    const open = await h.waitForCall('views.open', 0, (c) => c.body.trigger_id === triggerId);
    const view = open.body.view;
    expect(view.callback_id).toBe('keyward_limits_edit');
    expect(view.blocks.map((b: { block_id: string }) => b.block_id)).toEqual(['hard', 'soft', 'thresholds', 'channel', 'notify', 'webhook']);
    const values = {
      hard: { value: { type: 'plain_text_input', value: '250' } },
      soft: { value: { type: 'plain_text_input', value: '' } },
      thresholds: { value: { type: 'plain_text_input', value: '75,100' } },
      channel: { value: { type: 'conversations_select', selected_conversation: null } },
      notify: { value: { type: 'checkboxes', selected_options: [{ value: 'webhook' }] } },
      webhook: { value: { type: 'plain_text_input', value: '' } },
    };
    const refused = await h.interact({ type: 'view_submission', team: { id: 'T0TEST' }, user: { id: U.admin }, view: { ...view, id: 'V1', state: { values } } });
    expect(JSON.parse(refused.text)).toEqual({ response_action: 'errors', errors: { webhook: 'Give an https URL, or untick Webhook.' } });
    values.webhook.value.value = 'https://hooks.example.com/kw';
    await h.interact({ type: 'view_submission', team: { id: 'T0TEST' }, user: { id: U.admin }, view: { ...view, id: 'V2', state: { values } } });
    const limit = await waitFor(() => h.responses.find((r) => String(r.body.text).startsWith('Saved.') && String(r.body.text).includes('$250.00')), 'saved answer');
    expect(limit.body.text).toBe('Saved. Limits of web: hard $250.00, soft none, spent $0.00 this month.');
    const row = await h.t.db.limit.findFirstOrThrow({ where: { projectId: { not: null } } });
    expect([row.softMicros, row.thresholds, row.channelId, row.notify, row.webhookUrl]).toEqual([null, '[75,100]', null, 'webhook', 'https://hooks.example.com/kw']);
  });

  it('/usage: Viewers see their project with the error split and limits; only org admins see the org', async () => {
    const project = await h.t.db.project.findFirstOrThrow({ where: { name: 'web' } });
    await h.t.db.usageDaily.create({
      data: {
        day: dayKey(new Date(), 'UTC'), keyId: 'key_abc', model: 'claude-sonnet-4-6', orgId: project.orgId, projectId: project.id,
        requests: 200, errors: 5, err401: 1, err403: 1, err429: 2, err5xx: 1, inputTokens: 10_000n, outputTokens: 5_000n, costMicros: 12_340_000n, latencyMsSum: 100_000n,
      },
    });
    await h.t.db.usageLatencyDaily.create({ data: { day: dayKey(new Date(), 'UTC'), projectId: project.id, orgId: project.orgId, bucket: 5, count: 200 } });
    const r = await h.ask('/usage', 'web', U.viewer);
    const blocks = r.body.blocks;
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(blocks).length).toBeLessThan(12_000);
    expect(blocks[2]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Errors* 2.5% (5) — 401: 1 · 403: 1 · 429: 2 · 5xx: 1 · other: 0' } });
    const fields = blocks[1].fields.map((f: { text: string }) => f.text);
    expect(fields).toContain('*Latency*\navg 500 ms · p95 750 ms');
    expect(fields).toContain('*Cost*\n$12.34 (new)');
    expect(JSON.stringify(blocks)).toContain('of the hard limit $250.00');
    expect((await h.ask('/usage', 'org', U.admin)).text).toContain('Only organisation admins');
    expect((await h.ask('/usage', 'org week', U.org)).text).toMatch(/^Usage of the organisation for Week \d+, \d{4}: 200 requests, \$12.34\.$/);
    expect((await h.ask('/usage', 'web fortnight', U.viewer)).text).toContain('Unexpected "fortnight"');
  });

  it('/usage statement uploads the CSV to the asker’s DM with the external upload API', async () => {
    const from = h.calls.length;
    const month = periodOf('month', new Date(), 'UTC').key;
    const r = await h.ask('/usage', `statement web ${month}`, U.viewer);
    expect(r.text).toBe(`Sent the ${month} statement of *web* (1 row, $12.34) to your DM with keyward.`);
    const get = h.callsTo('files.getUploadURLExternal', from)[0]!;
    expect(get.body.filename).toBe(`keyward-web-${month}.csv`);
    const done = h.callsTo('files.completeUploadExternal', from)[0]!;
    expect(done.body.channel_id).toBe(`D${U.viewer}`);
    expect(JSON.parse(done.body.files)).toEqual([{ id: 'F0UPLOAD', title: `keyward statement web ${month}` }]);
    expect(uploads.at(-1)!.toString('utf8')).toContain(`${month},web,key_abc,,claude-sonnet-4-6,200,10000,5000,0,0,12.340000`);
  });

  it('/keyward run --dry-run shows what would be sent and sends nothing; only org admins may run jobs', async () => {
    await h.ask('/limits', 'set web hard=20 thresholds=50', U.admin);
    const project = await h.t.db.project.findFirstOrThrow({ where: { name: 'web' } });
    const period = periodOf('month', new Date(), 'UTC').key;
    await h.t.db.budget.create({ data: { limitId: `prj:${project.id}`, period, spentMicros: 12_340_000n, updatedAt: new Date() } });
    const from = h.calls.length;
    const r = await h.ask('/keyward', 'run alerts --dry-run', U.org);
    expect(r.text).toBe('Dry run: alerts: 1 action.');
    expect(JSON.stringify(r.body.blocks)).toContain(`would alert prj:${project.id}:${period}:pct:50: 61.7% ($12.34 of $20.00) → webhook`);
    expect(h.callsTo('chat.postMessage', from)).toHaveLength(0);
    expect(await h.t.db.alert.count()).toBe(0);
    expect((await h.ask('/keyward', 'run alerts --dry-run', U.admin)).text).toBe('Only organisation admins can run scheduled jobs.');
    expect((await h.ask('/keyward', 'run everything', U.org)).text).toContain('Which job?');
  });

  it('App Home shows this month’s usage of the user’s projects within 100 blocks', async () => {
    const from = h.calls.length;
    await h.event({ type: 'app_home_opened', user: U.viewer, channel: 'DHOME', tab: 'home' });
    const publish = await h.waitForCall('views.publish', from);
    const blocks = publish.body.view.blocks;
    expect(blocks.length).toBeLessThanOrEqual(100);
    const text = JSON.stringify(blocks);
    expect(text).toContain(`Usage · ${periodLabel(periodOf('month', new Date(), 'UTC'))}`);
    expect(text).toContain('*web* — $12.34');
  });
});
