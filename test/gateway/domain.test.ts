import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES_FILE } from '../../src/config/index.js';
import { formatUsd, parseLimitChanges, parseUsd, spendLimitMessage } from '../../src/domain/limits.js';
import { dayKey, formatZoned, monthPeriod, PeriodCache } from '../../src/domain/periods.js';
import { costMicros, estimateInputTokens, PriceTable, worstCaseMicros } from '../../src/domain/pricing.js';
import { applyUsage, emptyUsage } from '../../src/domain/usage.js';
import { Bucket, RateLimiter } from '../../src/gateway/rate-limit.js';
import { SseUsageTracker } from '../../src/gateway/sse.js';

const table = PriceTable.parse(readFileSync(DEFAULT_PRICES_FILE, 'utf8'));
const usage = (u: Partial<ReturnType<typeof emptyUsage>>) => ({ ...emptyUsage(), ...u });

describe('price table', () => {
  it('prices models by their longest matching prefix, dated variants included', () => {
    expect(table.lookup('claude-opus-4-5').rates.input).toBe(table.lookup('claude-opus-4-5-20251101').rates.input);
    expect(costMicros(table.lookup('claude-opus-4-5').rates, usage({ input: 1_000_000 }))).toBe(5_000_000);
    expect(costMicros(table.lookup('claude-opus-4-1').rates, usage({ input: 1_000_000 }))).toBe(15_000_000);
    expect(costMicros(table.lookup('claude-haiku-4-5').rates, usage({ output: 1_000_000 }))).toBe(5_000_000);
    expect(costMicros(table.lookup('claude-3-5-haiku-20241022').rates, usage({ input: 1_000_000 }))).toBe(800_000);
    expect(table.lookup('claude-sonnet-4-20250514').known).toBe(true);
  });

  it('applies cache multipliers: 5 min write 1.25x, 1 h write 2x, read 0.1x of input', () => {
    const sonnet = table.lookup('claude-sonnet-4-6').rates;
    expect(costMicros(sonnet, usage({ cacheWrite: 1_000_000 }))).toBe(3_750_000);
    expect(costMicros(sonnet, usage({ cacheWrite: 1_000_000, cacheWrite1h: 1_000_000 }))).toBe(6_000_000);
    expect(costMicros(sonnet, usage({ cacheRead: 1_000_000 }))).toBe(300_000);
    // Haiku 3 lists its own cache prices.
    expect(costMicros(table.lookup('claude-3-haiku-20240307').rates, usage({ cacheRead: 1_000_000 }))).toBe(30_000);
  });

  it('prices unknown models by family, else at the most expensive rate, and says so', () => {
    const unknownSonnet = table.lookup('claude-sonnet-9-experimental');
    expect(unknownSonnet.known).toBe(false);
    expect(unknownSonnet.rates.input).toBe(table.lookup('claude-sonnet-4').rates.input);
    const mystery = table.lookup('some-new-model');
    expect(mystery.known).toBe(false);
    expect(mystery.rates.output).toBe(table.lookup('claude-opus-4').rates.output);
  });

  it('rounds cost up to whole micro-dollars and reserves the worst case', () => {
    expect(costMicros(table.lookup('claude-3-haiku').rates, usage({ input: 1 }))).toBe(1); // 0.25 → 1
    const sonnet = table.lookup('claude-sonnet-4-6').rates;
    expect(worstCaseMicros(sonnet, 100, 1000)).toBe(100 * 6 + 1000 * 15);
    expect(estimateInputTokens(300)).toBe(100);
  });
});

describe('limit settings', () => {
  it('parses USD into micro-dollars and formats them back', () => {
    expect(parseUsd('100')).toBe(100_000_000n);
    expect(parseUsd('$1,250.5')).toBe(1_250_500_000n);
    expect(parseUsd('0.000001')).toBe(1n);
    expect(() => parseUsd('-5')).toThrow(/not an amount/);
    expect(() => parseUsd('1.0000001')).toThrow();
    expect(formatUsd(1_250_500_000n)).toBe('$1,250.50');
    expect(formatUsd(3_300n)).toBe('$0.0033');
  });

  it('parses /limits set arguments, "none" clears, unknown or repeated settings are refused', () => {
    expect(parseLimitChanges(['hard=100', 'rpm=60', 'itpm=none', 'OTPM=8000'])).toEqual({ hardMicros: 100_000_000n, rpm: 60, itpm: null, otpm: 8000 });
    expect(() => parseLimitChanges([])).toThrow(/Nothing to set/);
    expect(() => parseLimitChanges(['rpm=0'])).toThrow(/whole number/);
    expect(() => parseLimitChanges(['rpm=1.5'])).toThrow(/whole number/);
    expect(() => parseLimitChanges(['rpm=1', 'rpm=2'])).toThrow(/twice/);
    expect(() => parseLimitChanges(['soft=5'])).toThrow(/Unknown setting/);
  });

  it('the spend-limit message starts with Anthropic wording and names the project and reset', () => {
    const msg = spendLimitMessage({ scope: 'project', project: 'web', hardMicros: 5_000_000n, resetAt: '2026-12-01T00:00:00+01:00' });
    expect(msg).toMatch(/^You have reached your specified API usage limits for project "web"/);
    expect(msg).toContain('$5.00');
    expect(msg).toContain('2026-12-01T00:00:00+01:00');
    const org = spendLimitMessage({ scope: 'org', project: 'web', hardMicros: 5_000_000n, resetAt: '2026-12-01T00:00:00+01:00' });
    expect(org).toBe('You have reached your specified API usage limits for your organisation (project "web"): its monthly hard limit is spent. You will regain access on 2026-12-01T00:00:00+01:00.');
  });
});

describe('periods', () => {
  it('calendar months in the org time zone', () => {
    const at = new Date('2026-11-30T23:30:00Z'); // already December in Berlin
    const p = monthPeriod(at, 'Europe/Berlin');
    expect(p.key).toBe('2026-12');
    expect(p.start.toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(formatZoned(p.end, 'Europe/Berlin')).toBe('2027-01-01T00:00:00+01:00');
    expect(dayKey(at, 'Europe/Berlin')).toBe('2026-12-01');
    expect(dayKey(at, 'UTC')).toBe('2026-11-30');
  });

  it('PeriodCache recomputes only when time leaves the period', () => {
    const c = new PeriodCache('month', 'UTC');
    const a = c.at(new Date('2026-11-02T00:00:00Z'));
    expect(c.at(new Date('2026-11-30T23:59:59Z'))).toBe(a);
    expect(c.at(new Date('2026-12-01T00:00:00Z')).key).toBe('2026-12');
  });
});

describe('usage extraction', () => {
  it('message_delta counts are cumulative: present fields replace, absent ones stay', () => {
    const u = emptyUsage();
    applyUsage(u, { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 5 });
    applyUsage(u, { output_tokens: 15 });
    applyUsage(u, { output_tokens: 30, input_tokens: 12 });
    expect(u).toMatchObject({ input: 12, output: 30, cacheRead: 5 });
  });

  it('the SSE tracker reads usage across chunk boundaries and ignores other events', () => {
    const u = emptyUsage();
    const tr = new SseUsageTracker(u);
    const text = 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"usage"}}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":42}}\n\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) tr.feed(bytes.subarray(i, i + 7));
    expect(u).toMatchObject({ input: 9, output: 42 });
    expect(tr.sawStop).toBe(true);
  });
});

describe('token buckets', () => {
  it('refill continuously per minute and say how long to wait', () => {
    const b = new Bucket(60, 60, 0);
    b.level = 0;
    expect(b.waitFor(1)).toBe(1);
    b.refill(30_000);
    expect(b.level).toBe(30);
    b.refill(600_000);
    expect(b.level).toBe(60);
  });

  it('split the limit among live processes', () => {
    const r = new RateLimiter();
    r.setProcesses(4);
    expect(r.bucket('x', 100, 0)!.capacity).toBe(25);
    r.setProcesses(1);
    expect(r.bucket('x', 100, 0)!.capacity).toBe(100);
    expect(r.bucket('y', null, 0)).toBeNull();
  });
});
