import { describe, expect, it } from 'vitest';
import { periodOf } from '../../src/domain/calendar.js';
import { changeText, limitLines, periodLabel, textBar, usageMessage, withinBudget, type UsageReportView } from '../../src/slack/views/usage.js';
import { expectBlockKit, hostile, text, totals, usd } from './usage-kit.js';

const month = periodOf('month', new Date('2026-11-15T00:00:00Z'), 'Europe/Berlin');

const report = (over: Partial<UsageReportView> = {}): UsageReportView => ({
  scope: { kind: 'project', name: 'web' },
  period: month,
  previousKey: '2026-10',
  current: totals({
    requests: 12_345,
    inputTokens: 1_234_567,
    outputTokens: 345_678,
    cacheReadTokens: 2_000_000,
    cacheWriteTokens: 10_000,
    costMicros: usd(1234.56),
    latencyAvgMs: 812.4,
    latencyP95Ms: 2000,
    errors: { unauthorized: 12, forbidden: 3, rateLimited: 100, server: 7, other: 1 },
  }),
  previous: totals({ requests: 10_000, inputTokens: 1_000_000, costMicros: usd(1000), errors: { unauthorized: 0, forbidden: 0, rateLimited: 50, server: 0, other: 0 } }),
  topKeys: [
    { id: 'key_a', label: 'Prod', requests: 10_000, tokens: 3_000_000, costMicros: usd(1000) },
    { id: 'key_b', label: 'CI', requests: 2_345, tokens: 590_245, costMicros: usd(234.56) },
  ],
  topModels: [{ id: 'claude-sonnet-4-5', label: 'claude-sonnet-4-5', requests: 12_345, tokens: 3_590_245, costMicros: usd(1234.56) }],
  limit: { spendMicros: usd(1234.56), hardMicros: usd(2000), softMicros: usd(1000) },
  ...over,
});

describe('helpers', () => {
  it('labels periods', () => {
    expect(periodLabel(month)).toBe('November 2026');
    expect(periodLabel(periodOf('week', new Date('2026-11-26T00:00:00Z'), 'UTC'))).toBe('Week 48, 2026');
    expect(periodLabel(periodOf('quarter', new Date('2026-11-26T00:00:00Z'), 'UTC'))).toBe('Q4 2026');
    expect(periodLabel(periodOf('day', new Date('2026-11-26T00:00:00Z'), 'UTC'))).toBe('2026-11-26');
  });

  it('shows change, bars and limits', () => {
    expect(changeText(0.123)).toBe('▲ 12.3%');
    expect(changeText(-0.05)).toBe('▼ 5%');
    expect(changeText(null)).toBe('new');
    expect(changeText(0)).toBe('±0%');
    expect(textBar(0.5, 10)).toBe('`█████░░░░░`');
    expect(textBar(0, 4)).toBe('`░░░░`');
    expect(textBar(1.7, 4)).toBe('`████` :warning:');
    expect(limitLines(null)).toEqual([]);
    expect(limitLines({ spendMicros: usd(50), hardMicros: usd(200), softMicros: null })).toEqual([
      '`█████░░░░░░░░░░░░░░░` 25% of the hard limit $200.00 ($50.00 this month)',
    ]);
    expect(withinBudget(['aaa', 'bbb', 'ccc'], 8)).toEqual(['aaa', 'bbb']);
  });
});

describe('/usage for one project', () => {
  it('shows every metric, the error split, top keys and models, change and limits', () => {
    const m = usageMessage([report()]);
    expectBlockKit(m.blocks!, 'message', m.text);
    expect(m.text).toBe('Usage of web for November 2026: 12,345 requests, $1,234.56.');
    const t = text(m.blocks!);
    expect(m.blocks![0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Usage · web · November 2026', emoji: true } });
    for (const s of [
      '*Requests*\\n12,345 (▲ 23.4%)',
      '*Cost*\\n$1,234.56 (▲ 23.5%)',
      '*Input tokens*\\n1,234,567',
      '*Output tokens*\\n345,678',
      'read 2,000,000 · write 10,000',
      '*Latency*\\navg 812 ms · p95 2,000 ms',
      '*Error rate*\\n1% (was 0.5%)',
      '401: 12 · 403: 3 · 429: 100 · 5xx: 7 · other: 1',
      '1. *Prod* — $1,000.00 · 3,000,000 tokens · 10,000 requests',
      '2. *CI* — $234.56',
      '*Top models*',
      '61.7% of the hard limit $2,000.00 ($1,234.56 this month)',
      '123.4% of the soft limit $1,000.00',
      'Compared with 2026-10. Periods in Europe/Berlin',
    ]) {
      expect(t).toContain(s);
    }
  });

  it('says when no limit is set and when nothing happened', () => {
    const m = usageMessage([report({ limit: null, current: totals(), previous: totals(), topKeys: [], topModels: [] })]);
    const t = text(m.blocks!);
    expect(t).toContain('No spend limit set. Set one with `/limits set`.');
    expect(t).toContain('*Latency*\\n—');
    expect(t).toContain('*Requests*\\n0 (±0%)');
    expect(t).not.toContain('*Top keys*');
  });

  it('names the organisation scope', () => {
    const m = usageMessage([report({ scope: { kind: 'org', name: 'Acme' } })]);
    expect(m.text).toMatch(/^Usage of the organisation/);
    expect(text(m.blocks!)).toContain('Usage · Organisation · November 2026');
  });

  it('escapes key and model names coming from users and requests', () => {
    const m = usageMessage([report({ topModels: [{ id: 'x', label: '<!channel> & <@U1>', requests: 1, tokens: 1, costMicros: 1n }] })]);
    const t = text(m.blocks!);
    expect(t).toContain('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    expect(t).not.toContain('<!channel>');
  });

  it('caps long top lists', () => {
    const keys = Array.from({ length: 200 }, (_, i) => ({ id: `key_${i}`, label: hostile(i), requests: i, tokens: i, costMicros: BigInt(i) }));
    const m = usageMessage([report({ topKeys: keys, topModels: keys })], { topN: 5 });
    expectBlockKit(m.blocks!, 'message', m.text);
    expect((text(m.blocks!).match(/key_|\d\. \*/g) ?? []).length).toBeLessThanOrEqual(10);
  });
});

describe('/usage for several projects', () => {
  it('lists one line per project, most expensive first, with the total', () => {
    const m = usageMessage([
      report({ scope: { kind: 'project', name: 'cheap' }, current: totals({ requests: 1, costMicros: usd(1) }), limit: null }),
      report(),
    ]);
    expectBlockKit(m.blocks!, 'message', m.text);
    const t = text(m.blocks!);
    expect(t.indexOf('*web*')).toBeLessThan(t.indexOf('*cheap*'));
    expect(t).toContain('*2 projects*, $1,235.56 in total.');
    expect(m.text).toBe('Usage of your 2 projects for November 2026: $1,235.56.');
  });

  it('stays within Block Kit limits with 500 projects and hostile names', () => {
    const many = Array.from({ length: 500 }, (_, i) => report({ scope: { kind: 'project', name: hostile(i) }, current: totals({ requests: i, costMicros: BigInt(i * 1000) }) }));
    const m = usageMessage(many);
    expectBlockKit(m.blocks!, 'message', m.text);
    const t = text(m.blocks!);
    expect(t).toMatch(/…\d+ more not shown/);
    expect(t).not.toContain('<!channel>');
  });

  it('answers when there is nothing to show', () => {
    const m = usageMessage([]);
    expectBlockKit(m.blocks!, 'message', m.text);
    expect(m.text).toMatch(/not in any project/);
  });
});
