import { describe, expect, it } from 'vitest';
import { buildAlertPayload } from '../../src/domain/alerts.js';
import { periodOf } from '../../src/domain/calendar.js';
import { buildDigest, type DigestProjectInput, type DueKey } from '../../src/domain/digest.js';
import { deliveryProblemMessage, limitAlertMessage } from '../../src/slack/views/alerts.js';
import { digestMessage, rotationReminderMessage } from '../../src/slack/views/digest.js';
import { homeUsageBlocks, type HomeProjectUsage } from '../../src/slack/views/home-usage.js';
import { expectBlockKit, hostile, text, totals, usd } from './usage-kit.js';

const month = periodOf('month', new Date('2026-11-06T00:00:00Z'), 'Europe/Berlin');
const week = periodOf('week', new Date('2026-11-18T12:00:00Z'), 'Europe/Berlin');

const alert = (over: Partial<Parameters<typeof buildAlertPayload>[0]> = {}) =>
  buildAlertPayload({
    id: 'lim_1:2026-11:pct:75',
    event: { kind: 'threshold', threshold: 75 },
    scope: { kind: 'project', id: 'prj_1', name: 'web' },
    period: month,
    limit: { hardMicros: usd(100), softMicros: null, thresholds: [50, 75, 90, 100] },
    spendMicros: usd(76.5),
    topKeys: [{ id: 'key_b', name: 'Prod', costMicros: usd(60) }],
    now: new Date('2026-11-06T00:00:00Z'),
    ...over,
  });

describe('limit alert message', () => {
  it('says project, spend, limit, percentage, projected date, top keys and what to do', () => {
    const m = limitAlertMessage(alert());
    expectBlockKit(m.blocks!, 'message', m.text);
    expect(m.text).toBe('Project web reached 75% of its hard limit: $76.50 of $100.00 (2026-11).');
    const t = text(m.blocks!);
    expect(m.blocks![0]).toMatchObject({ type: 'header', text: { text: ':warning: web: 75% of the hard limit' } });
    for (const s of ['*Spend (2026-11)*\\n$76.50', '*Hard limit*\\n$100.00', '*Used*\\n76.5%', '<!date^', '1. *Prod* `key_b` — $60.00', '*What to do*', '/limits set web', '/keys revoke &lt;key-id&gt;', 'lim_1:2026-11:pct:75']) {
      expect(t).toContain(s);
    }
  });

  it('marks a reached hard limit and soft-limit events', () => {
    const full = limitAlertMessage(alert({ spendMicros: usd(100), event: { kind: 'threshold', threshold: 100 } }));
    expect(full.blocks![0]).toMatchObject({ text: { text: ':rotating_light: web: 100% of the hard limit' } });
    expect(text(full.blocks!)).toContain('*Hard limit reached*\\nreached');
    expect(text(full.blocks!)).toContain('requests are refused');
    const soft = limitAlertMessage(alert({ limit: { hardMicros: null, softMicros: usd(50), thresholds: [50] }, event: { kind: 'soft' } }));
    expect(soft.blocks![0]).toMatchObject({ text: { text: ':warning: web: soft limit passed' } });
    expect(text(soft.blocks!)).toContain('*Hard limit reached*\\nno hard limit set');
    const slow = limitAlertMessage(alert({ spendMicros: usd(51), now: new Date('2026-11-25T00:00:00Z'), event: { kind: 'threshold', threshold: 50 } }));
    expect(text(slow.blocks!)).toContain('not this period at the current rate');
  });

  it('escapes key names', () => {
    const m = limitAlertMessage(alert({ topKeys: [{ id: 'key_x', name: '<!here>', costMicros: 1n }] }));
    expect(text(m.blocks!)).not.toContain('<!here>');
  });

  it('tells admins about a failing destination, keeping channel mentions', () => {
    const m = deliveryProblemMessage({ destination: '<#C123>', hint: 'Invite @keyward.', alertId: 'a1' });
    expectBlockKit(m.blocks!, 'message', m.text);
    expect(m.text).toBe('keyward could not deliver alert a1 to <#C123>. Invite @keyward.');
  });
});

const dueKey = (i: number, over: Partial<DueKey> = {}): DueKey => ({
  id: `key_${i}`,
  name: `Key ${i}`,
  projectName: 'web',
  ownerId: 'U0OWNER',
  due: { reason: 'old', ageDays: 100 + i },
  ...over,
});

const project = (name: string, over: Partial<DigestProjectInput> = {}): DigestProjectInput => ({
  id: `prj_${name}`,
  name,
  current: totals({ requests: 100, inputTokens: 5000, costMicros: usd(12.5), errors: { unauthorized: 0, forbidden: 0, rateLimited: 5, server: 0, other: 0 } }),
  previous: totals({ requests: 50, inputTokens: 5000, costMicros: usd(25) }),
  keys: [{ id: 'key_1', label: 'Prod', requests: 100, tokens: 5000, costMicros: usd(12.5) }],
  limit: { spendMicros: usd(40), hardMicros: usd(100), softMicros: null },
  ...over,
});

describe('weekly digest message', () => {
  it('summarises totals, per project change, top keys, errors, limits, due keys and the chart', () => {
    const d = buildDigest({ week, projects: [project('web'), project('idle', { current: totals() })], dueKeys: [dueKey(1, { due: { reason: 'expiring', expiresInDays: 1, ageDays: 3 } })] });
    const m = digestMessage(d, { chartFileId: 'F123' });
    expectBlockKit(m.blocks!, 'message', m.text);
    expect(m.text).toBe('Weekly usage · Week 47, 2026: $12.50, 100 requests across 1 projects.');
    const t = text(m.blocks!);
    for (const s of [
      '*$12.50* (▼ 75%) · 5,000 tokens (▼ 50%) · 100 requests (±0%) across 1 project.', // idle's previous week counts too
      '*web* — $12.50 (▼ 50%)',
      'errors 5%',
      'Top keys: Prod $12.50',
      '40% of the hard limit $100.00 ($40.00 month to date)',
      'No usage: idle',
      '*Keys due for rotation* — 1.',
      '*Key 1* `key_1` (web) — expires in 1 day · owner <@U0OWNER>',
      'Week 2026-W47 (Europe/Berlin)',
    ]) {
      expect(t).toContain(s);
    }
    expect(m.blocks!.find((b) => b.type === 'image')).toEqual({ type: 'image', slack_file: { id: 'F123' }, alt_text: 'Daily cost per project, Week 47, 2026' });
  });

  it('keeps an empty week short', () => {
    const m = digestMessage(buildDigest({ week, projects: [project('web', { current: totals() })], dueKeys: [] }));
    expectBlockKit(m.blocks!, 'message', m.text);
    expect(m.blocks).toHaveLength(2);
    expect(m.text).toBe('Weekly usage · Week 47, 2026: no API requests last week.');
    const withDue = digestMessage(buildDigest({ week, projects: [], dueKeys: [dueKey(1)] }));
    expect(withDue.text).toContain('1 keys due for rotation');
    expect(text(withDue.blocks!)).toContain('101 days since its secret was made');
  });

  it('stays within Block Kit limits with 300 projects and 500 due keys', () => {
    const projects = Array.from({ length: 300 }, (_, i) => project(hostile(i), { keys: Array.from({ length: 20 }, (_, k) => ({ id: `k${k}`, label: hostile(k), requests: 1, tokens: 1, costMicros: BigInt(k) })) }));
    const d = buildDigest({ week, projects: [...projects, ...projects.map((p) => ({ ...p, name: `quiet ${p.name}`, current: totals() }))], dueKeys: Array.from({ length: 500 }, (_, i) => dueKey(i, { name: hostile(i) })) });
    const m = digestMessage(d, { chartFileId: 'F1' });
    expectBlockKit(m.blocks!, 'message', m.text);
    const t = text(m.blocks!);
    expect(t).toMatch(/more projects not shown/);
    expect(t).toMatch(/\d+ more not shown/);
    expect(t).not.toContain('<!channel>');
  });

  it('reminds an owner about one key', () => {
    const m = rotationReminderMessage(dueKey(7, { due: { reason: 'expiring', expiresInDays: 5, ageDays: 20 } }));
    expectBlockKit(m.blocks!, 'message', m.text);
    expect(m.text).toBe('Your key Key 7 (web) expires in 5 days: rotate it with /keys rotate key_7.');
    expect(text(m.blocks!)).toContain('at most once a week');
  });
});

describe('App Home usage section', () => {
  const usage = (name: string, cost: number): HomeProjectUsage => ({
    name,
    current: totals({ requests: 10, inputTokens: 1000, costMicros: usd(cost) }),
    previous: totals({ costMicros: usd(cost / 2) }),
    limit: { spendMicros: usd(cost), hardMicros: usd(100), softMicros: null },
  });

  it('shows this month per project with limits and keys due', () => {
    const blocks = homeUsageBlocks({ period: month, projects: [usage('small', 1), usage('big', 80)], dueKeys: [dueKey(1)], maxBlocks: 20 });
    expectBlockKit(blocks, 'home');
    const t = text(blocks);
    expect(t).toContain('Usage · November 2026');
    expect(t).toContain('$81.00 · 2,000 tokens · 20 requests across your 2 projects.');
    expect(t.indexOf('*big*')).toBeLessThan(t.indexOf('*small*'));
    expect(t).toContain('*big* — $80.00 (▲ 100%)');
    expect(t).toContain('80% of the hard limit $100.00');
    expect(t).toContain('Keys due for rotation (1)');
  });

  it('never exceeds its block budget, however much there is', () => {
    const projects = Array.from({ length: 400 }, (_, i) => usage(hostile(i), i));
    const due = Array.from({ length: 400 }, (_, i) => dueKey(i, { name: hostile(i) }));
    for (const maxBlocks of [3, 5, 10, 40, 100]) {
      const blocks = homeUsageBlocks({ period: month, projects, dueKeys: due, maxBlocks });
      expect(blocks.length, String(maxBlocks)).toBeLessThanOrEqual(maxBlocks);
      expectBlockKit(blocks, 'home');
    }
    expect(homeUsageBlocks({ period: month, projects, dueKeys: due, maxBlocks: 2 })).toEqual([]);
    expect(text(homeUsageBlocks({ period: month, projects, dueKeys: due, maxBlocks: 40 }))).toContain('Keys due for rotation (400)');
  });

  it('says when there are no projects', () => {
    expect(text(homeUsageBlocks({ period: month, projects: [], dueKeys: [], maxBlocks: 10 }))).toContain('No projects yet');
  });
});
