import { describe, expect, it } from 'vitest';
import { periodOf } from '../../src/domain/calendar.js';
import { buildDigest, type DigestProjectInput } from '../../src/domain/digest.js';
import {
  addTotals,
  emptyTotals,
  errorBucket,
  errorRate,
  LATENCY_BUCKETS_MS,
  latencyBucket,
  percentChange,
  quantileFromHistogram,
  topN,
  type UsageTotals,
} from '../../src/domain/report.js';
import { csvField, statementCsv, statementFilename, type StatementRow } from '../../src/domain/statement.js';

const totals = (over: Partial<UsageTotals> = {}): UsageTotals => ({ ...emptyTotals(), ...over });
const usd = (n: number) => BigInt(Math.round(n * 1e6));
const week = periodOf('week', new Date('2026-11-18T12:00:00Z'), 'Europe/Berlin');

describe('usage report arithmetic', () => {
  it('buckets HTTP statuses into the reported error kinds', () => {
    expect([200, 201, 302, 401, 403, 429, 500, 503, 529, 400, 404, 413].map(errorBucket)).toEqual([
      null,
      null,
      null,
      'unauthorized',
      'forbidden',
      'rateLimited',
      'server',
      'server',
      'server',
      'other',
      'other',
      'other',
    ]);
  });

  it('adds totals, weighting average latency by requests and keeping the worst p95', () => {
    const a = totals({ requests: 100, inputTokens: 10, costMicros: usd(1), latencyAvgMs: 200, latencyP95Ms: 500, errors: { ...emptyTotals().errors, server: 2 } });
    const b = totals({ requests: 300, inputTokens: 5, costMicros: usd(2), latencyAvgMs: 400, latencyP95Ms: 900, errors: { ...emptyTotals().errors, rateLimited: 6 } });
    const sum = addTotals(a, b);
    expect(sum).toMatchObject({ requests: 400, inputTokens: 15, costMicros: usd(3), latencyAvgMs: 350, latencyP95Ms: 900 });
    expect(sum.errors).toEqual({ unauthorized: 0, forbidden: 0, rateLimited: 6, server: 2, other: 0 });
    expect(errorRate(sum)).toBe(0.02);
    expect(addTotals(a, emptyTotals()).latencyAvgMs).toBe(200);
    expect(addTotals(emptyTotals(), emptyTotals()).latencyAvgMs).toBeNull();
    expect(errorRate(emptyTotals())).toBe(0);
  });

  it('computes change against the previous period, null when there is no base', () => {
    expect(percentChange(150, 100)).toBe(0.5);
    expect(percentChange(usd(50), usd(100))).toBe(-0.5);
    expect(percentChange(10, 0)).toBeNull();
    expect(percentChange(0, 0)).toBe(0);
  });

  it('ranks by cost, then tokens, then name, deterministically', () => {
    const rows = [
      { id: 'a', label: 'b', requests: 1, tokens: 5, costMicros: 10n },
      { id: 'b', label: 'a', requests: 1, tokens: 5, costMicros: 10n },
      { id: 'c', label: 'c', requests: 1, tokens: 9, costMicros: 10n },
      { id: 'd', label: 'd', requests: 1, tokens: 1, costMicros: 99n },
    ];
    expect(topN(rows, 3).map((r) => r.id)).toEqual(['d', 'c', 'b']);
  });

  it('derives p95 from a latency histogram', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(50)).toBe(0);
    expect(latencyBucket(51)).toBe(1);
    expect(latencyBucket(10 ** 7)).toBe(LATENCY_BUCKETS_MS.length);
    const counts = new Array(LATENCY_BUCKETS_MS.length + 1).fill(0);
    counts[latencyBucket(80)] = 94;
    counts[latencyBucket(1200)] = 6;
    expect(quantileFromHistogram(counts, 0.95)).toBe(1500);
    expect(quantileFromHistogram(counts, 0.5)).toBe(100);
    expect(quantileFromHistogram(counts.map(() => 0), 0.95)).toBeNull();
  });
});

describe('weekly digest', () => {
  const project = (name: string, over: Partial<DigestProjectInput> = {}): DigestProjectInput => ({
    id: `prj_${name}`,
    name,
    current: totals(),
    previous: totals(),
    keys: [],
    limit: null,
    ...over,
  });

  it('orders active projects by cost and computes week-over-week change', () => {
    const d = buildDigest({
      week,
      dueKeys: [],
      projects: [
        project('web', {
          current: totals({ requests: 200, inputTokens: 1000, outputTokens: 500, costMicros: usd(20), errors: { ...emptyTotals().errors, server: 10 } }),
          previous: totals({ requests: 100, inputTokens: 1000, costMicros: usd(25) }),
          keys: [
            { id: 'k1', label: 'CI', requests: 50, tokens: 100, costMicros: usd(2) },
            { id: 'k2', label: 'Prod', requests: 100, tokens: 1000, costMicros: usd(15) },
            { id: 'k3', label: 'Dev', requests: 40, tokens: 300, costMicros: usd(2.5) },
            { id: 'k4', label: 'Old', requests: 10, tokens: 100, costMicros: usd(0.5) },
          ],
          limit: { spendMicros: usd(60), hardMicros: usd(100), softMicros: null },
        }),
        project('data', { current: totals({ requests: 10, costMicros: usd(40) }) }),
        project('zzz-idle', { previous: totals({ requests: 5 }) }),
        project('alpha-idle'),
      ],
    });
    expect(d.empty).toBe(false);
    expect(d.projects.map((p) => p.name)).toEqual(['data', 'web']);
    const web = d.projects[1]!;
    expect(web.change).toEqual({ requests: 1, tokens: 0.5, cost: -0.2 });
    expect(web.errorRate).toBe(0.05);
    expect(web.topKeys.map((k) => k.label)).toEqual(['Prod', 'Dev', 'CI']);
    expect(web.limit?.hardMicros).toBe(usd(100));
    expect(d.projects[0]!.change.cost).toBeNull(); // new this week
    expect(d.quiet).toEqual(['alpha-idle', 'zzz-idle']);
    expect(d.totals.requests).toBe(210);
    expect(d.totals.costMicros).toBe(usd(60));
    expect(d.change.requests).toBe(1); // 210 vs 105
  });

  it('says an empty week is empty, keeping keys due for rotation', () => {
    const d = buildDigest({
      week,
      projects: [project('web'), project('data')],
      dueKeys: [
        { id: 'k1', name: 'Old', projectName: 'web', ownerId: 'U1', due: { reason: 'old', ageDays: 120 } },
        { id: 'k2', name: 'Older', projectName: 'web', ownerId: 'U1', due: { reason: 'old', ageDays: 300 } },
        { id: 'k3', name: 'Soon', projectName: 'data', ownerId: 'U2', due: { reason: 'expiring', expiresInDays: 3, ageDays: 10 } },
        { id: 'k4', name: 'Sooner', projectName: 'data', ownerId: 'U2', due: { reason: 'expiring', expiresInDays: 1, ageDays: 10 } },
      ],
    });
    expect(d.empty).toBe(true);
    expect(d.projects).toEqual([]);
    expect(d.quiet).toEqual(['data', 'web']);
    expect(d.dueKeys.map((k) => k.name)).toEqual(['Sooner', 'Soon', 'Older', 'Old']);
    expect(d.week.key).toBe('2026-W47');
  });
});

describe('monthly statement CSV', () => {
  const row = (over: Partial<StatementRow>): StatementRow => ({
    keyId: 'key_1',
    keyName: 'Prod',
    model: 'claude-sonnet-4-5',
    requests: 10,
    inputTokens: 1000,
    outputTokens: 200,
    cacheReadTokens: 50,
    cacheWriteTokens: 5,
    costMicros: 1_234_567n,
    ...over,
  });

  it('escapes fields per RFC 4180 and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-1+2')).toBe("'-1+2");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField(-5)).toBe('-5');
    expect(csvField('-1.500000', false)).toBe('-1.500000');
  });

  it('lists key × model rows sorted, with exact costs and a total that adds up', () => {
    const csv = statementCsv({
      month: '2026-11',
      project: 'Web, "public"',
      rows: [
        row({ keyId: 'key_2', keyName: 'Batch', model: 'claude-haiku-4-5', costMicros: 7n, requests: 1, inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }),
        row({}),
        row({ model: 'claude-opus-4-1', costMicros: 2_000_000_000n }),
      ],
    });
    expect(csv.split('\r\n')).toEqual([
      'month,project,key_id,key_name,model,requests,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd',
      '2026-11,"Web, ""public""",key_2,Batch,claude-haiku-4-5,1,1,1,0,0,0.000007',
      '2026-11,"Web, ""public""",key_1,Prod,claude-opus-4-1,10,1000,200,50,5,2000.000000',
      '2026-11,"Web, ""public""",key_1,Prod,claude-sonnet-4-5,10,1000,200,50,5,1.234567',
      '2026-11,"Web, ""public""",TOTAL,,,21,2001,401,100,10,2001.234574',
      '',
    ]);
  });

  it('writes a header and a zero total for a month without usage', () => {
    expect(statementCsv({ month: '2026-10', project: 'web', rows: [] }).split('\r\n')[1]).toBe('2026-10,web,TOTAL,,,0,0,0,0,0,0.000000');
  });

  it('names the file safely', () => {
    expect(statementFilename('Web App/../x', '2026-11')).toBe('keyward-web-app-x-2026-11.csv');
    expect(statementFilename('Ünïcode', '2026-11')).toBe('keyward-n-code-2026-11.csv');
    expect(statementFilename('!!!', '2026-11')).toBe('keyward-project-2026-11.csv');
  });
});
