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
}

export interface PriceFile {
  cache: { write5m: number; write1h: number; read: number };
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
}
const SCALE = 10_000;
const units = (usdPerMTok: number) => Math.round(usdPerMTok * SCALE);

export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  /** All cache writes; `cacheWrite1h` of them at the 1-hour price, the rest at the 5-minute price. */
  cacheWrite: number;
  cacheWrite1h: number;
}

export class PriceTable {
  private readonly byPrefix: [string, Rates][];
  private readonly cache = new Map<string, { rates: Rates; known: boolean }>();

  constructor(private readonly file: PriceFile) {
    const entries: [string, Rates][] = [];
    for (const m of file.models) {
      for (const prefix of m.prefixes) {
        entries.push([prefix, {
          id: prefix,
          input: units(m.input),
          output: units(m.output),
          write5m: units(m.cacheWrite5m ?? m.input * file.cache.write5m),
          write1h: units(m.cacheWrite1h ?? m.input * file.cache.write1h),
          read: units(m.cacheRead ?? m.input * file.cache.read),
        }]);
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

/** Cost of a request in whole micro-dollars, rounded up (a number: exact below $9 billion). */
export function costMicros(rates: Rates, u: TokenUsage): number {
  const write1h = Math.min(u.cacheWrite1h, u.cacheWrite);
  const scaled =
    u.input * rates.input + u.output * rates.output + u.cacheRead * rates.read +
    (u.cacheWrite - write1h) * rates.write5m + write1h * rates.write1h;
  return Math.ceil(scaled / SCALE);
}

/** Worst case reserved at admission: every input token at the dearest input rate (a cache write
 *  costs up to 2x) plus `max_tokens` of output. */
export function worstCaseMicros(rates: Rates, inputTokens: number, maxTokens: number): number {
  const dearestInput = Math.max(rates.input, rates.write5m, rates.write1h);
  return Math.ceil((inputTokens * dearestInput + maxTokens * rates.output) / SCALE);
}

/**
 * Input tokens estimated from the request body size without tokenizing: real text averages about
 * 4 bytes per token, so bytes/3 over-estimates, which is the safe side for reservations.
 */
export const estimateInputTokens = (bodyBytes: number) => Math.ceil(bodyBytes / 3);
