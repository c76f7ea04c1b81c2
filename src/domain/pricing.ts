import { invalid } from './errors.js';

/** One priced model family, in USD per million tokens (as published). */
export interface ModelPrice {
  family: string;
  prefixes: string[];
  input: number;
  output: number;
  cacheWrite5m?: number;
  cacheWrite1h?: number;
  cacheRead?: number;
  /** Dearer rates for the whole request when its input (cache included) is above `above` tokens. */
  longContext?: LongContext;
}

/** Multipliers of a model's rates for long-context requests; cache prices follow the input multiplier. */
export interface LongContext {
  above: number;
  input: number;
  output: number;
}

export interface PriceFile {
  cache: { write5m: number; write1h: number; read: number };
  /** Server tools billed per use, in USD per 1,000 uses. */
  serverTools?: { webSearchPer1000?: number };
  models: ModelPrice[];
  familyFallback?: Record<string, string>;
  unknownFallback: string;
}

/**
 * Rates in 1/10,000 of a micro-dollar per token, so every cost is integer arithmetic on safe
 * numbers ($75/MTok = 75 micro-dollars per token = 750,000 units).
 */
export interface Rates {
  id: string;
  input: number;
  output: number;
  write5m: number;
  write1h: number;
  read: number;
  /** Per web search (a per-use fee, not per token), in the same units. */
  search: number;
  /** The rates that apply instead when a request's input is above `above` tokens. */
  longContext: { above: number; rates: Rates } | null;
}
const SCALE = 10_000;
const units = (usdPerMTok: number) => Math.round(usdPerMTok * SCALE);
/** USD per 1,000 uses → units per use ($10 per 1,000 = 10,000 micro-dollars each). */
const perUseUnits = (usdPer1000: number) => Math.round(usdPer1000 * 1000 * SCALE);

export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  /** All cache writes; `cacheWrite1h` of them at the 1-hour price, the rest at the 5-minute price. */
  cacheWrite: number;
  cacheWrite1h: number;
  /** `server_tool_use.web_search_requests`: searches billed per use. */
  webSearches: number;
}

export class PriceTable {
  private readonly byPrefix: [string, Rates][];
  private readonly cache = new Map<string, { rates: Rates; known: boolean }>();

  constructor(private readonly file: PriceFile) {
    const entries: [string, Rates][] = [];
    const search = perUseUnits(file.serverTools?.webSearchPer1000 ?? 0);
    for (const m of file.models) {
      const long = m.longContext;
      if (long && !(long.above > 0 && long.input >= 1 && long.output >= 1)) {
        throw invalid(`Price table: longContext of ${m.prefixes.join(', ')} needs above > 0 and multipliers of at least 1.`);
      }
      for (const prefix of m.prefixes) {
        const rates = (x: number, y: number): Rates => ({
          id: prefix,
          input: units(m.input * x),
          output: units(m.output * y),
          write5m: units((m.cacheWrite5m ?? m.input * file.cache.write5m) * x),
          write1h: units((m.cacheWrite1h ?? m.input * file.cache.write1h) * x),
          read: units((m.cacheRead ?? m.input * file.cache.read) * x),
          search,
          longContext: null,
        });
        const base = rates(1, 1);
        if (long) base.longContext = { above: long.above, rates: rates(long.input, long.output) };
        entries.push([prefix, base]);
      }
    }
    this.byPrefix = entries.sort((a, b) => b[0].length - a[0].length);
    if (!this.exact(file.unknownFallback)) throw invalid(`Price table: unknownFallback "${file.unknownFallback}" is not a listed prefix.`);
    for (const target of Object.values(file.familyFallback ?? {})) {
      if (!this.exact(target)) throw invalid(`Price table: familyFallback "${target}" is not a listed prefix.`);
    }
  }

  static parse(json: string): PriceTable {
    const file = JSON.parse(json) as PriceFile;
    if (!Array.isArray(file.models) || !file.cache) throw invalid('Price table needs "models" and "cache".');
    return new PriceTable(file);
  }

  private exact(prefix: string) {
    return this.byPrefix.find(([p]) => p === prefix)?.[1];
  }

  /** Rates for a model id; `known` false when priced by family or the most expensive fallback. */
  lookup(model: string): { rates: Rates; known: boolean } {
    let hit = this.cache.get(model);
    if (hit) return hit;
    const id = model.toLowerCase();
    const match = this.byPrefix.find(([p]) => id === p || id.startsWith(`${p}-`) || id.startsWith(`${p}@`));
    if (match) hit = { rates: match[1], known: true };
    else {
      const family = Object.keys(this.file.familyFallback ?? {}).find((f) => id.includes(f));
      const target = family ? this.file.familyFallback![family]! : this.file.unknownFallback;
      hit = { rates: this.exact(target)!, known: false };
    }
    if (this.cache.size < 1000) this.cache.set(model, hit);
    return hit;
  }
}

/** The rates for a request with this many input tokens (cache reads and writes count as input). */
export const ratesFor = (rates: Rates, inputTokens: number): Rates =>
  rates.longContext && inputTokens > rates.longContext.above ? rates.longContext.rates : rates;

/** Cost of a request in whole micro-dollars, rounded up (a number: exact below $9 billion). */
export function costMicros(rates: Rates, u: TokenUsage): number {
  const r = ratesFor(rates, u.input + u.cacheRead + u.cacheWrite);
  const write1h = Math.min(u.cacheWrite1h, u.cacheWrite);
  const scaled =
    u.input * r.input + u.output * r.output + u.cacheRead * r.read +
    (u.cacheWrite - write1h) * r.write5m + write1h * r.write1h + u.webSearches * r.search;
  return Math.ceil(scaled / SCALE);
}

/** Worst case reserved at admission: every input token at the dearest input rate (a cache write
 *  costs up to 2x), long-context rates when the estimate is above their threshold, `max_tokens` of
 *  output and the web searches the request allows. */
export function worstCaseMicros(rates: Rates, inputTokens: number, maxTokens: number, webSearches = 0): number {
  const r = ratesFor(rates, inputTokens);
  const dearestInput = Math.max(r.input, r.write5m, r.write1h);
  return Math.ceil((inputTokens * dearestInput + maxTokens * r.output + webSearches * r.search) / SCALE);
}

/**
 * Input tokens estimated from the request body size without tokenizing: real text averages about
 * 4 bytes per token, so bytes/3 over-estimates, which is the safe side for reservations.
 */
export const estimateInputTokens = (bodyBytes: number) => Math.ceil(bodyBytes / 3);

/** Web searches reserved for when a request's web_search tool sets no `max_uses`. */
export const DEFAULT_RESERVED_SEARCHES = 10;

const FETCHING_TOOLS = ['web_search', 'web_fetch', 'code_execution'];
type Block = { type?: unknown; source?: { type?: unknown } | null; content?: unknown };

/** A content block that makes the upstream load data the body does not hold. */
function fetchesBlock(b: Block): boolean {
  if (b.type === 'container_upload') return true;
  if (b.type === 'document' || b.type === 'image') return b.source?.type === 'url' || b.source?.type === 'file';
  return b.type === 'tool_result' && Array.isArray(b.content) && b.content.some((c) => c && typeof c === 'object' && fetchesBlock(c as Block));
}

/**
 * What a Messages request may cost beyond what its body's size suggests: inputs the upstream loads
 * itself (documents and images by URL or file id, container uploads, results of web search, web
 * fetch, code execution and MCP servers) and web searches, billed per use. A walk over the parsed
 * body's blocks, no second parse.
 */
export function serverSideWork(parsed: object) {
  const body = parsed as { messages?: unknown; tools?: unknown; mcp_servers?: unknown; container?: unknown };
  let fetches = (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0) || body.container != null;
  let webSearches = 0;
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools as { type?: unknown; max_uses?: unknown }[]) {
      const type = tool && typeof tool.type === 'string' ? tool.type : '';
      if (!FETCHING_TOOLS.some((t) => type.startsWith(t))) continue;
      fetches = true;
      if (type.startsWith('web_search')) {
        const max = tool.max_uses;
        webSearches += typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : DEFAULT_RESERVED_SEARCHES;
      }
    }
  }
  if (!fetches && Array.isArray(body.messages)) {
    outer: for (const m of body.messages as { content?: unknown }[]) {
      if (!m || !Array.isArray(m.content)) continue;
      for (const b of m.content as Block[]) {
        if (b && typeof b === 'object' && fetchesBlock(b)) {
          fetches = true;
          break outer;
        }
      }
    }
  }
  return { fetches, webSearches };
}
