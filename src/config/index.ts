import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseRange, type AddressRange } from '../domain/addresses.js';
import { parseCron } from '../domain/jobs.js';

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;
const SLACK_TEAM = /^[TE][A-Z0-9]{2,}$/;

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalText.refine(
    (v) => v === undefined || /^(file:|postgres(ql)?:\/\/)/.test(v),
    'must start with file: (SQLite) or postgresql:// (PostgreSQL)',
  ),
  DATA_DIR: z.string().default('./data'),
  SLACK_BOT_TOKEN: optionalText.refine((v) => v === undefined || v.startsWith('xoxb-'), 'must be a bot token (xoxb-...)'),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText.refine((v) => v === undefined || v.startsWith('xapp-'), 'must be an app-level token (xapp-...)'),
  SLACK_API_URL: z.url({ message: 'must be a URL such as https://slack.com/api/' }).default('https://slack.com/api/'),
  KEYWARD_ADMINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((ids) => ids.every((id) => SLACK_USER.test(id)), 'must be comma-separated Slack user ids like U012ABC'),
  SLACK_TEAM_IDS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((ids) => ids.every((id) => SLACK_TEAM.test(id)), 'must be comma-separated Slack team or enterprise ids like T012ABC or E012ABC'),
  KEYWARD_WEBHOOK_ALLOW_PRIVATE: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every((r) => parseRange(r) !== null), 'must be comma-separated address ranges like 10.0.0.0/8,127.0.0.1/32 or fd00::/8')
    .transform((list) => list.map((r) => parseRange(r)!)),
  KEYWARD_SECRET: optionalText.refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters'),
  ANTHROPIC_BASE_URL: z.url({ message: 'must be a URL' }).default('https://api.anthropic.com'),
  ANTHROPIC_API_KEY: optionalText,
  KEYWARD_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/Berlin'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KEYWARD_ROLES: z
    .string()
    .default('gateway,bot,scheduler')
    .transform((v) => [...new Set(v.split(',').map((r) => r.trim().toLowerCase()).filter(Boolean))])
    .refine((roles) => roles.length > 0 && roles.every((r) => ['gateway', 'bot', 'scheduler'].includes(r)), 'must list one or more of gateway, bot, scheduler (comma-separated)'),
  // Gateway (data plane)
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(600_000),
  USAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  KEYWARD_PRICES_FILE: optionalText,
  KEYWARD_RESERVE_FETCH_TOKENS: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
  GATEWAY_BODY_MEMORY_MB: z.coerce.number().int().min(32).max(65_536).default(96),
  GATEWAY_BODY_MEMORY_PER_KEY_MB: z.coerce.number().int().min(1).max(65_536).default(32),
  GATEWAY_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  GATEWAY_KEY_DEFAULT_RPM: z.coerce.number().int().min(1).max(1_000_000).default(1_200),
  USAGE_QUEUE_MAX: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
  METRICS_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  // HTTP server: slow clients must not hold sockets (slowloris); responses (long streams) are not cut.
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(65_000),
  // Governance (approvals, two-factor)
  KEYWARD_REQUIRE_2FA: z
    .string()
    .trim()
    .toLowerCase()
    .default('false')
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', ''].includes(v), 'must be true or false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  KEYWARD_APPROVAL_TTL_HOURS: z.coerce.number().int().min(1).max(168).default(24),
  // Scheduled jobs (usage digest, rotation reminders)
  KEYWARD_DIGEST_CRON: z
    .string()
    .trim()
    .default('0 9 * * 1')
    .refine((v) => {
      try {
        parseCron(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be a 5-field cron expression such as "0 9 * * 1" (minute hour day month weekday)'),
  KEYWARD_ROTATION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
});

export type Env = z.infer<typeof schema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  databaseUrl: string;
  dataDir: string;
  slack: {
    botToken?: string;
    signingSecret?: string;
    appToken?: string;
    apiUrl: string;
    /** Variables missing for the Slack receiver to start (empty = ready). */
    missing: string[];
    socketMode: boolean;
    /** Served besides the installed team or enterprise (SLACK_TEAM_IDS). */
    teamIds: string[];
  };
  admins: string[];
  secret: string;
  /** True when KEYWARD_SECRET was generated into the data folder (development only). */
  secretGenerated: boolean;
  anthropic: { baseUrl: string; apiKey?: string };
  timezone: string;
  logLevel: Env['LOG_LEVEL'];
  /** What this process runs: the gateway, the Slack bot, the scheduler (all by default). */
  roles: Set<'gateway' | 'bot' | 'scheduler'>;
  gateway: {
    /** Separate listener for the gateway; unset = same port as the Slack receiver. */
    port?: number;
    /** Upstream inactivity timeout (no byte for this long → 504), long enough for slow streams. */
    upstreamTimeoutMs: number;
    /** How long raw usage events are kept (daily rollups are kept for good). */
    usageRetentionDays: number;
    /** Price table (USD per million tokens); defaults to config/prices.json. */
    pricesFile: string;
    /** Input tokens reserved at least for a request that makes the upstream fetch its input (URL or file documents, web fetch…). */
    reserveFetchTokens: number;
    /** Request bodies held in memory at once, all keys together / per key (bytes); beyond: 529. */
    bodyMemoryBytes: number;
    bodyMemoryPerKeyBytes: number;
    /** A request body must arrive within this long (408); below the server's request timeout. */
    bodyTimeoutMs: number;
    /** Requests per minute per key on count_tokens, models and usage when the key has no rpm. */
    keyDefaultRpm: number;
    /** Usage events waiting for the database; when full, new messages are refused with 503. */
    usageQueueMax: number;
    /** When set, /metrics needs `Authorization: Bearer <token>`. */
    metricsToken?: string;
  };
  http: {
    /** Whole request head must arrive within this long. */
    headersTimeoutMs: number;
    /** Whole request (head and body) must arrive within this long; the response is not limited. */
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
  /** Private address ranges alert webhooks may reach (KEYWARD_WEBHOOK_ALLOW_PRIVATE; none by default). */
  webhookAllowPrivate: AddressRange[];
  /** Sensitive actions need a TOTP code from everyone (unenrolled users must enroll first). */
  require2fa: boolean;
  /** How long a key request waits for a decision before it expires. */
  approvalTtlHours: number;
  jobs: {
    /** Weekly digest cron in KEYWARD_TIMEZONE. */
    digestCron: string;
    /** Keys whose secret is older than this get rotation reminders. */
    rotationDays: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `.env` text (KEY=value, # comments, optional quotes). Values already in the environment win. */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!m) continue;
    const raw = m[2]!.trim();
    const quoted = /^(['"])(.*?)\1\s*(?:#.*)?$/.exec(raw);
    out[m[1]!] = quoted ? quoted[2]! : raw.replace(/\s+#.*$/, '').trim();
  }
  return out;
}

export function loadDotEnv(file = '.env', env: NodeJS.ProcessEnv = process.env): void {
  if (!existsSync(file)) return;
  for (const [k, v] of Object.entries(parseDotEnv(readFileSync(file, 'utf8')))) {
    if (env[k] === undefined) env[k] = v;
  }
}

/** Validates the environment. Every bad variable is named in one ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { generateSecret?: boolean } = {}): Config {
  // An empty variable means "not set" (PORT= must not become port 0).
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const order: string[] = [];
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) order.push('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
  // The gateway answers a slow body itself (Anthropic-shaped) before the server cuts the socket.
  if (e.GATEWAY_BODY_TIMEOUT_MS >= e.HTTP_REQUEST_TIMEOUT_MS) order.push('GATEWAY_BODY_TIMEOUT_MS: must be below HTTP_REQUEST_TIMEOUT_MS');
  if (e.GATEWAY_BODY_MEMORY_PER_KEY_MB > e.GATEWAY_BODY_MEMORY_MB) order.push('GATEWAY_BODY_MEMORY_PER_KEY_MB: must not exceed GATEWAY_BODY_MEMORY_MB');
  if (order.length > 0) throw new ConfigError(order);
  const dataDir = path.resolve(e.DATA_DIR);
  let secret = e.KEYWARD_SECRET;
  let secretGenerated = false;
  if (!secret) {
    if (e.NODE_ENV === 'production') {
      throw new ConfigError(['KEYWARD_SECRET: required when NODE_ENV=production (at least 32 characters)']);
    }
    secret = opts.generateSecret === false ? randomBytes(32).toString('base64url') : readOrCreateSecret(dataDir);
    secretGenerated = true;
  }
  const socketMode = Boolean(e.SLACK_APP_TOKEN);
  const missing: string[] = [];
  if (!e.SLACK_BOT_TOKEN) missing.push('SLACK_BOT_TOKEN');
  if (socketMode ? false : !e.SLACK_SIGNING_SECRET) missing.push('SLACK_SIGNING_SECRET');
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL ?? `file:${path.join(dataDir, 'keyward.db')}`,
    dataDir,
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
      missing,
      socketMode,
      teamIds: e.SLACK_TEAM_IDS,
    },
    admins: e.KEYWARD_ADMINS,
    secret,
    secretGenerated,
    anthropic: { baseUrl: e.ANTHROPIC_BASE_URL.replace(/\/+$/, ''), apiKey: e.ANTHROPIC_API_KEY },
    timezone: e.KEYWARD_TIMEZONE,
    logLevel: e.LOG_LEVEL,
    roles: new Set(e.KEYWARD_ROLES as ('gateway' | 'bot' | 'scheduler')[]),
    gateway: {
      port: e.GATEWAY_PORT,
      upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
      usageRetentionDays: e.USAGE_RETENTION_DAYS,
      pricesFile: path.resolve(e.KEYWARD_PRICES_FILE ?? DEFAULT_PRICES_FILE),
      reserveFetchTokens: e.KEYWARD_RESERVE_FETCH_TOKENS,
      bodyMemoryBytes: e.GATEWAY_BODY_MEMORY_MB * MB,
      bodyMemoryPerKeyBytes: e.GATEWAY_BODY_MEMORY_PER_KEY_MB * MB,
      bodyTimeoutMs: e.GATEWAY_BODY_TIMEOUT_MS,
      keyDefaultRpm: e.GATEWAY_KEY_DEFAULT_RPM,
      usageQueueMax: e.USAGE_QUEUE_MAX,
      metricsToken: e.METRICS_TOKEN,
    },
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    webhookAllowPrivate: e.KEYWARD_WEBHOOK_ALLOW_PRIVATE,
    require2fa: e.KEYWARD_REQUIRE_2FA,
    approvalTtlHours: e.KEYWARD_APPROVAL_TTL_HOURS,
    jobs: { digestCron: e.KEYWARD_DIGEST_CRON, rotationDays: e.KEYWARD_ROTATION_DAYS },
  };
}

const MB = 1024 * 1024;

/** Development convenience: one random secret kept in the data folder so hashes survive restarts. */
function readOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, 'keyward.secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

/** The price table shipped with keyward (repo root / config / prices.json). */
export const DEFAULT_PRICES_FILE = fileURLToPath(new URL('../../config/prices.json', import.meta.url));

export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//.test(url);
