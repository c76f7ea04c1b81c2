import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_PRICES_FILE, loadConfig } from '../../src/config/index.js';
import { costMicros, DEFAULT_RESERVED_SEARCHES, PriceTable, serverSideWork, worstCaseMicros } from '../../src/domain/pricing.js';
import { applyUsage, billableUsage, emptyUsage, type StreamTally } from '../../src/domain/usage.js';
import { SseUsageTracker } from '../../src/gateway/sse.js';
import { sse } from './helpers.js';

const table = PriceTable.parse(readFileSync(DEFAULT_PRICES_FILE, 'utf8'));
const usage = (u: Partial<ReturnType<typeof emptyUsage>>) => ({ ...emptyUsage(), ...u });
const rates = (model: string) => table.lookup(model).rates;

describe('fees and rates the token prices alone miss', () => {
  it('web search: $10 per 1,000 searches, read from usage.server_tool_use', () => {
    const u = applyUsage(emptyUsage(), { input_tokens: 0, output_tokens: 0, server_tool_use: { web_search_requests: 3, web_fetch_requests: 2 } });
    expect(u.webSearches).toBe(3);
    expect(costMicros(rates('claude-sonnet-4-6'), u)).toBe(30_000);
    expect(costMicros(rates('claude-haiku-4-5'), usage({ webSearches: 1, input: 1000 }))).toBe(10_000 + 1000);
  });

  it('long context: Sonnet 4 and 4.5 above 200k input tokens cost 2x input (cache too) and 1.5x output', () => {
    const s45 = rates('claude-sonnet-4-5-20250929');
    expect(costMicros(s45, usage({ input: 200_000, output: 1000 }))).toBe(200_000 * 3 + 1000 * 15);
    expect(costMicros(s45, usage({ input: 200_001, output: 1000 }))).toBe(200_001 * 6 + 1000 * 22.5);
    // Cache reads and writes count towards the threshold and follow the input multiplier.
    expect(costMicros(s45, usage({ input: 100_000, cacheRead: 150_000 }))).toBe(100_000 * 6 + 150_000 * 0.6);
    expect(costMicros(s45, usage({ input: 1, cacheWrite: 300_000, cacheWrite1h: 100_000 }))).toBe(6 + 200_000 * 7.5 + 100_000 * 12);
    expect(costMicros(rates('claude-sonnet-4-20250514'), usage({ input: 250_000 }))).toBe(1_500_000);
    // Models without long-context pricing keep their rates.
    expect(costMicros(rates('claude-sonnet-4-6'), usage({ input: 250_000 }))).toBe(750_000);
    expect(costMicros(rates('claude-opus-4-5'), usage({ input: 250_000 }))).toBe(1_250_000);
    // The reservation uses them once the input estimate is above the threshold.
    expect(worstCaseMicros(s45, 300_000, 1000)).toBe(300_000 * 12 + 1000 * 22.5);
    expect(worstCaseMicros(s45, 1000, 1000, 2)).toBe(1000 * 6 + 1000 * 15 + 20_000);
  });

  it('1 h cache writes at 2x input, 5 min at 1.25x, also when only the split is reported', () => {
    const sonnet = rates('claude-sonnet-4-6');
    const u = applyUsage(emptyUsage(), { input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 1_000_000, ephemeral_1h_input_tokens: 1_000_000 } });
    expect(u).toMatchObject({ cacheWrite: 2_000_000, cacheWrite1h: 1_000_000 });
    expect(costMicros(sonnet, u)).toBe(3_750_000 + 6_000_000);
    const both = applyUsage(emptyUsage(), { cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 100 } });
    expect(both).toMatchObject({ cacheWrite: 300, cacheWrite1h: 100 });
  });

  it('a price file with a broken long-context block is refused', () => {
    const file = JSON.parse(readFileSync(DEFAULT_PRICES_FILE, 'utf8'));
    file.models[0].longContext = { above: 200_000, input: 0.5, output: 1 };
    expect(() => PriceTable.parse(JSON.stringify(file))).toThrow(/longContext/);
  });
});

describe('what a request may make the upstream load or bill (admission)', () => {
  const msg = (...content: unknown[]) => ({ messages: [{ role: 'user', content }] });

  it('documents and images by URL or file id, container uploads and fetching tools need the fetch floor', () => {
    expect(serverSideWork(msg({ type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } })).fetches).toBe(true);
    expect(serverSideWork(msg({ type: 'image', source: { type: 'file', file_id: 'file_1' } })).fetches).toBe(true);
    expect(serverSideWork(msg({ type: 'container_upload', file_id: 'file_2' })).fetches).toBe(true);
    expect(serverSideWork(msg({ type: 'tool_result', tool_use_id: 't', content: [{ type: 'document', source: { type: 'url', url: 'https://x' } }] })).fetches).toBe(true);
    expect(serverSideWork({ ...msg('hi'), tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] })).toEqual({ fetches: true, webSearches: 0 });
    expect(serverSideWork({ ...msg('hi'), tools: [{ type: 'code_execution_20250825', name: 'code_execution' }] }).fetches).toBe(true);
    expect(serverSideWork({ ...msg('hi'), mcp_servers: [{ type: 'url', url: 'https://mcp.example.com', name: 'x' }] }).fetches).toBe(true);
  });

  it('inline content, client tools and plain text do not', () => {
    expect(serverSideWork(msg('Hi'))).toEqual({ fetches: false, webSearches: 0 });
    expect(serverSideWork(msg({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'AAAA' } })).fetches).toBe(false);
    expect(serverSideWork(msg({ type: 'text', text: '{"type":"url"}' })).fetches).toBe(false);
    expect(serverSideWork({ ...msg('Hi'), tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] }).fetches).toBe(false);
    expect(serverSideWork({ messages: 'nonsense', tools: [null, 5] })).toEqual({ fetches: false, webSearches: 0 });
  });

  it('the fetch floor is KEYWARD_RESERVE_FETCH_TOKENS (default 100,000); a bad value is named', () => {
    const env = { NODE_ENV: 'test', KEYWARD_SECRET: 'x'.repeat(32) };
    expect(loadConfig(env).gateway.reserveFetchTokens).toBe(100_000);
    expect(loadConfig({ ...env, KEYWARD_RESERVE_FETCH_TOKENS: '250000' }).gateway.reserveFetchTokens).toBe(250_000);
    const bad = (() => {
      try {
        loadConfig({ ...env, KEYWARD_RESERVE_FETCH_TOKENS: 'lots' });
      } catch (e) {
        return e;
      }
    })();
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as ConfigError).problems[0]).toMatch(/^KEYWARD_RESERVE_FETCH_TOKENS:/);
  });

  it('web search reserves its max_uses, or a default when it sets none', () => {
    expect(serverSideWork({ ...msg('news?'), tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }] })).toEqual({ fetches: true, webSearches: 3 });
    expect(serverSideWork({ ...msg('news?'), tools: [{ type: 'web_search_20250305', name: 'web_search' }] }).webSearches).toBe(DEFAULT_RESERVED_SEARCHES);
    expect(serverSideWork({ ...msg('news?'), tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: -1 }] }).webSearches).toBe(DEFAULT_RESERVED_SEARCHES);
  });
});

describe('charging answers that did not finish', () => {
  const reserved = { input: 500, maxTokens: 4000, webSearches: 5 };
  const tally = (t: Partial<StreamTally>): StreamTally => ({ sawStart: true, output: 0, toolInput: 0, webSearches: 0, ...t });

  it('a final answer is charged as reported', () => {
    const u = usage({ input: 10, output: 20 });
    expect(billableUsage({ usage: u, final: true, tally: tally({ output: 900 }) }, true, reserved)).toEqual(u);
  });

  it('a cut stream: input from message_start plus tool results, output the larger of reported and streamed, at most max_tokens', () => {
    const u = usage({ input: 50, output: 1, cacheRead: 7 });
    expect(billableUsage({ usage: u, final: false, tally: tally({ output: 300, toolInput: 40, webSearches: 2 }) }, true, reserved))
      .toEqual(usage({ input: 90, output: 300, cacheRead: 7, webSearches: 2 }));
    expect(billableUsage({ usage: usage({ output: 700 }), final: false, tally: tally({ output: 300 }) }, true, reserved).output).toBe(700);
    expect(billableUsage({ usage: u, final: false, tally: tally({ output: 9000 }) }, true, reserved).output).toBe(4000);
  });

  it('a stream request with no message_start: the reserved input', () => {
    expect(billableUsage({ usage: emptyUsage(), final: false, tally: tally({ sawStart: false }) }, true, reserved)).toEqual(usage({ input: 500 }));
    expect(billableUsage({ usage: emptyUsage(), final: false, tally: null }, true, reserved)).toEqual(usage({ input: 500 }));
  });

  it('a non-stream answer cut off or never seen: the whole reservation', () => {
    expect(billableUsage({ usage: emptyUsage(), final: false, tally: null }, false, reserved))
      .toEqual(usage({ input: 500, output: 4000, webSearches: 5 }));
  });
});

describe('the SSE tracker counts what a stream delivered', () => {
  const delta = (index: number, d: Record<string, unknown>): [string, unknown] =>
    ['content_block_delta', { type: 'content_block_delta', index, delta: d }];
  const start: [string, unknown] = ['message_start', { type: 'message_start', message: { usage: { input_tokens: 25, output_tokens: 1 } } }];
  const feedAll = (tr: SseUsageTracker, text: string, step: number) => {
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += step) tr.feed(bytes.subarray(i, i + step));
  };

  it('estimates output from the deltas at no fewer tokens than 4 bytes each, one per delta at least', () => {
    const words = 'The quick brown fox jumps over the lazy dog and keeps on running. ';
    const events: [string, unknown][] = [start];
    for (let i = 0; i < 200; i++) events.push(delta(0, { type: 'text_delta', text: words }));
    events.push(delta(0, { type: 'text_delta', text: 'a' }), delta(0, { type: 'text_delta', text: '' }));
    const tr = new SseUsageTracker(emptyUsage());
    feedAll(tr, sse(events), 37);
    expect(tr.sawStart).toBe(true);
    expect(tr.sawDelta).toBe(false);
    expect(tr.usage.input).toBe(25);
    const textBytes = 200 * words.length + 1;
    expect(tr.output).toBeGreaterThanOrEqual(Math.ceil(textBytes / 4) + 2);
    expect(tr.output).toBeLessThanOrEqual(Math.ceil(textBytes / 3) + 202);
  });

  it('counts thinking, signatures and tool input; multi-byte text by its bytes; the same however the chunks fall', () => {
    const events: [string, unknown][] = [
      start,
      delta(0, { type: 'thinking_delta', thinking: 'Let me think about this carefully.' }),
      delta(0, { type: 'signature_delta', signature: 'A'.repeat(300) }),
      delta(1, { type: 'input_json_delta', partial_json: '{"city": "Paris", "unit": "celsius"}' }),
      delta(2, { type: 'text_delta', text: '東京は日本の首都です。'.repeat(10) }),
    ];
    const whole = new SseUsageTracker(emptyUsage());
    whole.feed(Buffer.from(sse(events)));
    const split = new SseUsageTracker(emptyUsage());
    feedAll(split, sse(events), 5); // splits multi-byte characters too
    expect(split.output).toBe(whole.output);
    expect(whole.output).toBeGreaterThanOrEqual(Math.ceil(34 / 4) + 100 + Math.ceil(36 / 4) + 110);
  });

  it('counts web searches started and tool results streamed back (input), and knows when the final usage came', () => {
    const result = { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [{ type: 'web_search_result', url: 'https://example.com', title: 'x', encrypted_content: 'E'.repeat(3000) }] };
    const events: [string, unknown][] = [
      start,
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }],
      ['content_block_start', { type: 'content_block_start', index: 2, content_block: result }],
      ['content_block_start', { type: 'content_block_start', index: 3, content_block: { type: 'server_tool_use', id: 'srvtoolu_2', name: 'web_fetch', input: {} } }],
    ];
    const tr = new SseUsageTracker(emptyUsage());
    feedAll(tr, sse(events), 64);
    expect(tr.webSearches).toBe(1);
    expect(tr.toolInput).toBeGreaterThanOrEqual(1000);
    expect(tr.output).toBe(0);
    tr.feed(Buffer.from(sse([['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 80, server_tool_use: { web_search_requests: 1 } } }]])));
    expect(tr.sawDelta).toBe(true);
    expect(tr.usage).toMatchObject({ input: 25, output: 80, webSearches: 1 });
  });

  it('a delta cut off midway still counts when the stream ends', () => {
    const tr = new SseUsageTracker(emptyUsage());
    const text = sse([start, delta(0, { type: 'text_delta', text: 'x'.repeat(90) })]);
    tr.feed(Buffer.from(text.slice(0, text.length - 40)));
    expect(tr.output).toBe(0);
    tr.end();
    expect(tr.output).toBeGreaterThanOrEqual(50 / 4);
  });
});
