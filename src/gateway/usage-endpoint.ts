import type { ServerResponse } from 'node:http';
import type { Db } from '../db/client.js';
import { microsToUsdNumber } from '../domain/limits.js';
import { formatZoned, monthPeriod } from '../domain/periods.js';
import { projectLimitId } from '../services/limits.js';
import { projectUsage, type UsageWriter } from '../services/usage.js';
import { sendJson } from './errors.js';
import type { KeyState, LimitState } from './key-cache.js';

/**
 * `GET /v1/usage`: the key's project only (never org-wide figures: a key holder is no org admin),
 * current calendar month in the org time zone. Flushes the
 * buffer first so the caller's own finished requests are counted; reads the daily rollup.
 */
export async function serveUsage(
  res: ServerResponse,
  ctx: { db: Db; key: KeyState; tz: string; now: Date; limits: Map<string, LimitState>; writer: UsageWriter },
) {
  const { db, key, tz, now } = ctx;
  await ctx.writer.flush().catch(() => {});
  const period = monthPeriod(now, tz);
  const u = await projectUsage(db, key.projectId, period);
  const cost = Number(u.costMicros);
  const limit = (l: LimitState | undefined, spent: number) => ({
    hard_usd: l?.hard == null ? null : microsToUsdNumber(BigInt(l.hard)),
    soft_usd: l?.soft == null ? null : microsToUsdNumber(BigInt(l.soft)),
    used_fraction: l?.hard == null ? null : l.hard === 0 ? 1 : round(spent / l.hard),
  });
  const input = Number(u.inputTokens);
  const output = Number(u.outputTokens);
  const read = Number(u.cacheReadTokens);
  const write = Number(u.cacheWriteTokens);
  sendJson(res, 200, {
    object: 'usage',
    project: { id: key.projectId, name: key.projectName },
    key_id: key.keyId,
    period: period.key,
    period_start: formatZoned(period.start, tz),
    period_end: formatZoned(period.end, tz),
    timezone: tz,
    total_tokens: input + output + read + write,
    input_tokens: input,
    output_tokens: output,
    cache_read_input_tokens: read,
    cache_creation_input_tokens: write,
    requests: u.requests,
    errors: u.errors,
    cost_usd: microsToUsdNumber(u.costMicros),
    limits: {
      ...limit(ctx.limits.get(projectLimitId(key.projectId)), cost),
      resets_at: formatZoned(period.end, tz),
    },
  });
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
