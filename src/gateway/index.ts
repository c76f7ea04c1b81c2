import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Db, Provider } from '../db/client.js';
import { hashSecret, looksLikeSecret, scopeAllows, scopesAllowing, type GatewayCapability } from '../domain/keys.js';
import { spendLimitMessage } from '../domain/limits.js';
import { isModelId, modelIdProblem } from '../domain/models.js';
import { formatZoned, PeriodCache } from '../domain/periods.js';
import { costMicros, estimateInputTokens, PriceTable, serverSideWork, worstCaseMicros } from '../domain/pricing.js';
import { billableUsage, emptyUsage, type ErrorClass, type Reserved } from '../domain/usage.js';
import { BudgetLeases, type Ledger } from '../services/budget.js';
import { GatewayInstances } from '../services/instances.js';
import { loadEnforcedLimits } from '../services/limits.js';
import { UsageWriter } from '../services/usage.js';
import { BodyMemory, readBody } from './body.js';
import { sendError } from './errors.js';
import { KeyCache, type KeyState, type LimitState } from './key-cache.js';
import { GatewayMetrics } from './metrics.js';
import { RateLimiter, type Bucket, type BucketKind } from './rate-limit.js';
import { Upstream } from './upstream.js';
import { serveUsage } from './usage-endpoint.js';

export interface GatewayOptions {
  db: Db;
  provider: Provider;
  config: Config;
  logger: Logger;
  now?: () => Date;
  /** Defaults to config.anthropic.baseUrl. */
  upstreamBaseUrl?: string;
  /** How long stop() waits for requests in flight before cutting them (default 30 s). */
  drainMs?: number;
}

export interface Gateway {
  /** True when the request is a gateway route (/v1/*, /metrics): the gateway answers it. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  start(): Promise<void>;
  /** Stops accepting, drains requests in flight, flushes usage, returns budget leases. */
  stop(): Promise<void>;
  /** Writes buffered usage now (also runs every 100 ms). */
  flush(): Promise<void>;
  /** Re-reads key changes and limits now (also polled). For tests and operators. */
  refresh(): Promise<void>;
  /** Null when this gateway can take traffic; else why not (usage backlog, failing flush) for /readyz. */
  health(): string | null;
  readonly instanceId: string;
  readonly internals: { budgets: BudgetLeases; writer: UsageWriter; instances: GatewayInstances; rates: RateLimiter };
}

const BODY_LIMIT = 32 * 1024 * 1024;
/** Small, frequent batches: each flush holds the main thread for well under a millisecond at 1k req/s. */
const FLUSH_MS = 100;
const LIMITS_MS = 1_000;
const LEASE_IDLE_MS = 2_000;

type Route = { cap: GatewayCapability; forward: boolean; method: string };
function routeOf(method: string | undefined, path: string): Route | null {
  if (path === '/v1/messages') return { cap: 'messages', forward: true, method: 'POST' };
  if (path === '/v1/messages/count_tokens') return { cap: 'count_tokens', forward: true, method: 'POST' };
  if (path === '/v1/models' || (path.startsWith('/v1/models/') && path.length > 11 && !path.includes('/', 11))) {
    return { cap: 'models', forward: true, method: 'GET' };
  }
  if (path === '/v1/usage') return { cap: 'usage', forward: false, method: 'GET' };
  return null;
}

/** `x-api-key: sk-kw-...` or `Authorization: Bearer sk-kw-...`. */
function credential(req: IncomingMessage): string | null {
  const key = req.headers['x-api-key'];
  if (typeof key === 'string' && key) return key.trim();
  const auth = req.headers.authorization;
  if (auth && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return null;
}

export function createGateway(opts: GatewayOptions): Gateway {
  const { db, config, logger } = opts;
  const log = logger.child({ component: 'gateway' });
  const nowMs = opts.now ? () => opts.now!().getTime() : Date.now;
  const tz = config.timezone;
  const prices = PriceTable.parse(readFileSync(config.gateway.pricesFile, 'utf8'));
  const upstream = new Upstream(opts.upstreamBaseUrl ?? config.anthropic.baseUrl, config.anthropic.apiKey, config.gateway.upstreamTimeoutMs);
  const metrics = new GatewayMetrics();
  const keys = new KeyCache(db, log, nowMs);
  const rates = new RateLimiter();
  const instances = new GatewayInstances(db, log, () => new Date(nowMs()), (n) => rates.setProcesses(n));
  const budgets = new BudgetLeases(db, instances, log, nowMs);
  const writer = new UsageWriter(db, tz, log, budgets, {
    knownModel: (model) => prices.lookup(model).known, maxQueue: config.gateway.usageQueueMax, now: nowMs,
  });
  const bodies = new BodyMemory(config.gateway.bodyMemoryBytes, config.gateway.bodyMemoryPerKeyBytes);
  const metricsToken = config.gateway.metricsToken ? createHash('sha256').update(config.gateway.metricsToken).digest() : null;
  const months = new PeriodCache('month', tz);
  let limits = new Map<string, LimitState>();
  const warnedModels = new Set<string>();
  const timers: NodeJS.Timeout[] = [];
  const active = new Set<ServerResponse>();
  let started: Promise<void> | null = null;
  let ready = false;
  let stopping = false;

  async function refreshLimits() {
    const next = new Map<string, LimitState>();
    for (const l of await loadEnforcedLimits(db)) {
      next.set(l.id, { hard: l.hardMicros, soft: l.softMicros, rpm: l.rpm, itpm: l.itpm, otpm: l.otpm });
    }
    limits = next;
  }

  function every(ms: number, what: string, fn: () => Promise<unknown>) {
    const t = setInterval(() => void fn().catch((e) => log.warn({ err: e }, `${what} failed`)), ms);
    t.unref();
    timers.push(t);
  }

  async function start() {
    await refreshLimits();
    await keys.start();
    await instances.start();
    rates.setProcesses(instances.live);
    every(FLUSH_MS, 'usage flush', () => writer.flush());
    every(LIMITS_MS, 'limits refresh', refreshLimits);
    every(LIMITS_MS, 'lease return', () => budgets.returnIdle(LEASE_IDLE_MS, months.at(new Date(nowMs())).key));
    const prune = () => writer.prune(new Date(nowMs() - config.gateway.usageRetentionDays * 86_400_000));
    every(3_600_000, 'usage retention', prune);
    void prune().catch((e) => log.warn({ err: e }, 'usage retention failed'));
    ready = true;
    log.info({ instance: instances.id }, 'gateway started');
  }

  function reject(res: ServerResponse, status: number, type: Parameters<typeof sendError>[2], reason: string, message: string, scope: string, headers?: Record<string, string>) {
    metrics.rejection(reason);
    metrics.request(status, scope);
    sendError(res, status, type, message, headers);
  }

  function rateLimitHeaders(kind: BucketKind, b: Bucket, retryAfter: number, now: number): Record<string, string> {
    return {
      'retry-after': String(Math.max(1, retryAfter)),
      [`anthropic-ratelimit-${kind}-limit`]: String(b.limit),
      [`anthropic-ratelimit-${kind}-remaining`]: String(Math.max(0, Math.floor(b.level))),
      [`anthropic-ratelimit-${kind}-reset`]: b.resetAt(now),
    };
  }

  /** `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time. */
  function metricsAllowed(req: IncomingMessage): boolean {
    if (!metricsToken) return true;
    const auth = req.headers.authorization;
    if (!auth || !/^bearer /i.test(auth)) return false;
    return timingSafeEqual(createHash('sha256').update(auth.slice(7).trim()).digest(), metricsToken);
  }

  /** Per key on every route: the key's rpm when it has one, else a default for the non-messages routes. */
  function auxRateLimit(res: ServerResponse, key: KeyState, now: number): boolean {
    const b = key.rpm !== null
      ? rates.bucket(key.ids.keyRequests, key.rpm, now)
      : rates.bucket(`k:${key.keyId}:d`, config.gateway.keyDefaultRpm, now);
    if (b && b.level < 1) {
      reject(res, 429, 'rate_limit_error', 'rate_limit_requests',
        `Number of requests has exceeded the per-minute rate limit of key ${key.keyId} (${b.limit} requests per minute).`,
        key.scope, rateLimitHeaders('requests', b, b.waitFor(1), now));
      return false;
    }
    if (b) b.level -= 1;
    return true;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, path: string, t0: number) {
    if (path === '/metrics') {
      if (!metricsAllowed(req)) return reject(res, 401, 'authentication_error', 'metrics_auth', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.', '-');
      const body = metrics.render({
        usageQueueDepth: writer.depth, usageDeadLetters: writer.deadLetters, bodyBytesInFlight: bodies.bytes,
        liveInstances: instances.live, keyCacheSize: keys.size,
      });
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const route = routeOf(req.method, path);
    if (!route) return reject(res, 404, 'not_found_error', 'not_found', `No such endpoint: ${req.method} ${path.slice(0, 100)}.`, '-');
    if (req.method !== route.method) {
      return reject(res, 405, 'invalid_request_error', 'method', `${path} takes ${route.method}, not ${req.method}.`, '-', { allow: route.method });
    }
    if (stopping) return reject(res, 503, 'api_error', 'shutting_down', 'This keyward gateway is shutting down; retry the request.', '-');
    if (route.cap === 'models' && path.length > 11 && !isModelId(path.slice(11))) {
      return reject(res, 404, 'not_found_error', 'invalid_model', 'model: not a model id (letters, digits and . _ : @ - only).', '-');
    }
    // Refused rather than served unaccounted: the usage queue is full while the database is behind.
    if (route.cap === 'messages' && writer.depth >= config.gateway.usageQueueMax) {
      return reject(res, 503, 'api_error', 'usage_backlog', 'keyward cannot record usage just now; retry shortly.', '-', { 'retry-after': '5' });
    }

    // Authentication: everything from here on is in memory unless the key is new to this process.
    const secret = credential(req);
    if (!secret) {
      return reject(res, 401, 'authentication_error', 'authentication', 'Missing API key: send your keyward key (sk-kw-...) in the x-api-key header.', '-');
    }
    if (!looksLikeSecret(secret)) return reject(res, 401, 'authentication_error', 'authentication', 'invalid x-api-key', '-');
    const hash = hashSecret(config.secret, secret);
    let key = keys.peek(hash);
    if (key === undefined) key = await keys.load(hash);
    const now = nowMs();
    if (!key) return reject(res, 401, 'authentication_error', 'authentication', 'invalid x-api-key', '-');
    if (!key.active) {
      record(key, 'unknown', 401, 'key_inactive', now);
      return reject(res, 401, 'authentication_error', 'authentication', `This API key (${key.keyId}) has been revoked.`, key.scope);
    }
    if (key.usableUntil <= now) {
      record(key, 'unknown', 401, 'key_expired', now);
      return reject(res, 401, 'authentication_error', 'authentication', `This API key (${key.keyId}) has expired or was rotated and its grace period is over.`, key.scope);
    }
    if (!scopeAllows(key.scope, route.cap)) {
      const need = scopesAllowing(route.cap).join(' or ');
      const msg = `This key has scope "${key.scope}"; ${path} needs scope ${need}.`;
      if (route.cap === 'messages') record(key, 'unknown', 403, 'permission', now);
      return reject(res, 403, 'permission_error', 'permission', msg, key.scope);
    }
    if (route.cap !== 'messages' && !auxRateLimit(res, key, now)) return;
    const authUs = (performance.now() - t0) * 1000;

    if (route.cap === 'usage') {
      await serveUsage(res, { db, key, tz, now: new Date(now), limits, writer });
      metrics.request(200, key.scope);
      return;
    }

    let body: Buffer | null = null;
    let parsed: { model?: unknown; max_tokens?: unknown } | null = null;
    if (route.method === 'POST') {
      const memory = bodies.hold(key.keyId);
      res.once('close', memory.release);
      const read = await readBody(req, BODY_LIMIT, config.gateway.bodyTimeoutMs, memory);
      if (read === 'too_large') {
        return reject(res, 413, 'request_too_large', 'too_large', 'Request exceeds the maximum allowed number of bytes (32 MB).', key.scope, { connection: 'close' });
      }
      if (read === 'overloaded') {
        return reject(res, 529, 'overloaded_error', 'body_memory', 'keyward is holding too many request bodies just now; retry shortly.', key.scope,
          { connection: 'close', 'retry-after': '1' });
      }
      if (read === 'timeout') {
        return reject(res, 408, 'timeout_error', 'body_timeout',
          `The request body did not arrive within ${Math.round(config.gateway.bodyTimeoutMs / 1000)} s.`, key.scope, { connection: 'close' });
      }
      if (read === 'aborted') return;
      body = read;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        /* handled below */
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        return reject(res, 400, 'invalid_request_error', 'invalid_json', 'The request body is not valid JSON (an object was expected).', key.scope);
      }
      const problem = modelIdProblem(parsed.model);
      if (problem) return reject(res, 400, 'invalid_request_error', 'invalid_model', problem, key.scope);
    }
    const tBody = performance.now();
    if (route.cap !== 'messages') {
      return forward(req, res, body, key, route, authUs, tBody, null);
    }
    return admitMessage(req, res, body!, parsed!, key, route, authUs, tBody);
  }

  async function admitMessage(
    req: IncomingMessage, res: ServerResponse, body: Buffer, parsed: { model?: unknown; max_tokens?: unknown },
    key: KeyState, route: Route, authUs: number, tBody: number,
  ) {
    const model = typeof parsed.model === 'string' ? parsed.model.slice(0, 100) : 'unknown';
    const maxTokens = typeof parsed.max_tokens === 'number' && parsed.max_tokens > 0 ? Math.floor(parsed.max_tokens) : 0;
    const estimate = estimateInputTokens(body.length);
    // The reservation also covers input the upstream loads itself and per-search fees.
    const work = serverSideWork(parsed);
    const reserved: Reserved = {
      input: work.fetches ? Math.max(estimate, config.gateway.reserveFetchTokens) : estimate, maxTokens, webSearches: work.webSearches,
    };
    const now = nowMs();
    const ids = key.ids;
    const prj = limits.get(ids.projectLimit);
    const org = limits.get(ids.orgLimit);

    // Rate limits: every bucket must allow the request before any is charged.
    const reqBuckets: [Bucket | null, string][] = [
      [rates.bucket(ids.keyRequests, key.rpm, now), `key ${key.keyId}`],
      [rates.bucket(ids.projectRequests, prj?.rpm ?? null, now), `project ${key.projectName}`],
      [rates.bucket(ids.orgRequests, org?.rpm ?? null, now), 'your organisation'],
    ];
    const inBuckets = [rates.bucket(ids.projectInput, prj?.itpm ?? null, now), rates.bucket(ids.orgInput, org?.itpm ?? null, now)];
    const outBuckets = [rates.bucket(ids.projectOutput, prj?.otpm ?? null, now), rates.bucket(ids.orgOutput, org?.otpm ?? null, now)];
    for (const [b, who] of reqBuckets) {
      if (b && b.level < 1) {
        record(key, model, 429, 'rate_limit', now);
        return reject(res, 429, 'rate_limit_error', 'rate_limit_requests',
          `Number of requests has exceeded the per-minute rate limit of ${who} (${b.limit} requests per minute).`,
          key.scope, rateLimitHeaders('requests', b, b.waitFor(1), now));
      }
    }
    for (const b of inBuckets) {
      // A request larger than the whole bucket waits for a full bucket instead of never passing.
      if (b && b.level < Math.min(estimate, b.capacity)) {
        record(key, model, 429, 'rate_limit', now);
        return reject(res, 429, 'rate_limit_error', 'rate_limit_input_tokens',
          `This request would exceed the input tokens per minute limit (${b.limit}) of ${key.projectName} or your organisation.`,
          key.scope, rateLimitHeaders('input-tokens', b, b.waitFor(Math.min(estimate, b.capacity)), now));
      }
    }
    for (const b of outBuckets) {
      if (b && b.level < 1) {
        record(key, model, 429, 'rate_limit', now);
        return reject(res, 429, 'rate_limit_error', 'rate_limit_output_tokens',
          `Output tokens per minute limit (${b.limit}) of ${key.projectName} or your organisation reached.`,
          key.scope, rateLimitHeaders('output-tokens', b, b.waitFor(1), now));
      }
    }
    for (const [b] of reqBuckets) if (b) b.level -= 1;
    for (const b of inBuckets) if (b) b.level -= estimate;

    // Hard spend limits: reserve the worst case against the project's and the org's budget.
    const { rates: price, known } = prices.lookup(model);
    if (!known && !warnedModels.has(model) && warnedModels.size < 1000) {
      warnedModels.add(model);
      log.warn({ model }, 'model not in the price table: priced by family (see config/prices.json)');
    }
    const worst = worstCaseMicros(price, reserved.input, maxTokens, reserved.webSearches);
    const period = months.at(new Date(now));
    const held: { l: Ledger; amount: number }[] = [];
    for (const [id, lim, scope] of [[ids.projectLimit, prj, 'project'], [ids.orgLimit, org, 'org']] as const) {
      if (!lim || lim.hard === null) continue;
      const l = budgets.ledger(id, period.key, lim.hard);
      let ok = budgets.reserve(l, worst);
      if (ok !== true) {
        try {
          ok = await ok;
        } catch (error) {
          // The database could not be asked: fail closed, but not with a misleading spend-limit message.
          for (const h of held) budgets.settle(h.l, h.amount, 0);
          log.error({ err: error }, 'budget lease failed');
          return reject(res, 503, 'api_error', 'budget_unavailable', 'keyward could not check the spend limit just now; retry shortly.', key.scope);
        }
      }
      if (!ok) {
        for (const h of held) budgets.settle(h.l, h.amount, 0);
        record(key, model, 400, 'spend_limit', now);
        return reject(res, 400, 'invalid_request_error', 'spend_limit', spendLimitMessage({
          scope, project: key.projectName, hardMicros: BigInt(lim.hard), resetAt: formatZoned(period.end, tz),
        }), key.scope);
      }
      held.push({ l, amount: worst });
    }
    const stream = (parsed as { stream?: unknown }).stream === true;
    forward(req, res, body, key, route, authUs, tBody, { model, estimate, reserved, stream, held, inBuckets, outBuckets, period: period.key, price });
  }

  interface Admitted {
    model: string;
    estimate: number;
    reserved: Reserved;
    stream: boolean;
    held: { l: Ledger; amount: number }[];
    inBuckets: (Bucket | null)[];
    outBuckets: (Bucket | null)[];
    period: string;
    price: ReturnType<PriceTable['lookup']>['rates'];
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer | null, key: KeyState, route: Route, authUs: number, tBody: number, a: Admitted | null) {
    const overheadUs = authUs + (performance.now() - tBody) * 1000;
    metrics.overhead.observe(overheadUs / 1e6);
    upstream.forward(req, res, body, {
      captureUsage: a !== null,
      extraHeaders: { 'x-keyward-overhead-ms': (overheadUs / 1000).toFixed(3) },
    }, (r) => {
      metrics.request(r.status || 499, key.scope);
      metrics.upstreamLatency.observe(r.upstreamMs / 1000);
      if (r.errorClass && r.status >= 500) metrics.rejection(r.errorClass);
      if (!a) return;
      const u = billableUsage(r, a.stream, a.reserved);
      const cost = costMicros(a.price, u);
      for (const h of a.held) budgets.settle(h.l, h.amount, cost);
      const inputDelta = u.input + u.cacheWrite - a.estimate;
      for (const b of a.inBuckets) if (b) b.level -= inputDelta;
      for (const b of a.outBuckets) if (b) b.level -= u.output;
      writer.push({
        orgId: key.orgId, projectId: key.projectId, keyId: key.keyId, model: a.model, status: r.status || 499,
        errorClass: r.errorClass, stream: r.stream, usage: u, costMicros: cost, latencyMs: r.upstreamMs,
        overheadUs, at: new Date(nowMs()), period: a.period,
      });
    });
  }

  /** A messages request refused by the gateway itself still counts (errors by class in /v1/usage). */
  function record(key: KeyState, model: string, status: number, errorClass: ErrorClass, now: number) {
    writer.push({
      orgId: key.orgId, projectId: key.projectId, keyId: key.keyId, model, status, errorClass, stream: false,
      usage: emptyUsage(), costMicros: 0,
      latencyMs: 0, overheadUs: 0, at: new Date(now), period: months.at(new Date(now)).key,
    });
  }

  return {
    get instanceId() {
      return instances.id;
    },
    internals: { budgets, writer, instances, rates },
    handle(req, res) {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      if (!path.startsWith('/v1/') && path !== '/metrics') return false;
      const t0 = performance.now();
      active.add(res);
      res.once('close', () => active.delete(res));
      // Once started, straight to serve (no extra promise hop per request).
      const served = ready ? serve(req, res, path, t0) : (started ??= start()).then(() => serve(req, res, path, t0));
      served.catch((error) => {
        log.error({ err: error, path }, 'gateway request failed');
        if (!res.headersSent) sendError(res, 500, 'api_error', 'keyward hit an internal error; the request was not forwarded.');
        else res.destroy();
      });
      return true;
    },
    start() {
      if (!started) started = start();
      return started;
    },
    async stop() {
      stopping = true;
      const deadline = Date.now() + (opts.drainMs ?? 30_000);
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // Past the deadline: cut what is left; each cut request still records its usage (on 'close').
      for (const res of active) res.destroy();
      while (active.size > 0) await new Promise((r) => setTimeout(r, 5));
      for (const t of timers) clearInterval(t);
      keys.stop();
      if (started) {
        await started.catch(() => {});
        for (let attempt = 0; ; attempt++) {
          try {
            await writer.flush();
            break;
          } catch (error) {
            if (attempt >= 4) throw error;
            await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
          }
        }
        await budgets.returnIdle(0, months.at(new Date(nowMs())).key);
        await instances.stop();
      }
      upstream.close();
      log.info({ instance: instances.id }, 'gateway stopped');
    },
    flush: () => writer.flush(),
    health: () => writer.health(),
    async refresh() {
      await keys.poll();
      await refreshLimits();
    },
  };
}
