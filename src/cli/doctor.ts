import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { openDatabase } from '../db/client.js';
import { sqlitePath } from '../db/migrate.js';
import { scrubText } from '../logger.js';
import type { Tokens } from './args.js';
import { need } from './commands/shared.js';
import { command, type BaseCtx } from './spec.js';

const TIMEOUT_MS = 5_000;
const MIGRATIONS = fileURLToPath(new URL('../../prisma/', import.meta.url));

type Status = 'ok' | 'warn' | 'fail' | 'skip';
interface Check {
  name: string;
  status: Status;
  message: string;
}
const MARK: Record<Status, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

/** A database URL fit to print: no password. */
export function safeUrl(url: string): string {
  try {
    if (url.startsWith('file:')) return url;
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

const reason = (error: unknown) => {
  const e = error as { cause?: { code?: string; message?: string }; message?: string; name?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return scrubText(e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error)).split('\n')[0]!;
};

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Reachable and fully migrated? Read-only: it never creates or migrates anything. */
async function checkDatabase(config: Config): Promise<Check> {
  const url = config.databaseUrl;
  const provider = /^postgres(ql)?:/.test(url) ? 'postgres' : 'sqlite';
  const where = provider === 'sqlite' ? `SQLite ${sqlitePath(url)}` : `PostgreSQL ${safeUrl(url)}`;
  if (provider === 'sqlite' && !existsSync(sqlitePath(url))) {
    return { name: 'database', status: 'fail', message: `no database at ${sqlitePath(url)} yet: run \`keyward migrate\` (npm start does it too)` };
  }
  const expected = readdirSync(path.join(MIGRATIONS, provider, 'migrations')).filter((d) => /^\d{14}_/.test(d)).sort();
  const database = await openDatabase(url);
  try {
    await withTimeout(database.db.$queryRawUnsafe('SELECT 1'));
    let applied: string[] = [];
    try {
      const rows = await database.db.$queryRawUnsafe<{ migration_name: string }[]>(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
      );
      applied = rows.map((r) => r.migration_name);
    } catch {
      // No migrations table: nothing applied yet.
    }
    const pending = expected.filter((m) => !applied.includes(m));
    if (pending.length > 0) {
      return {
        name: 'database', status: 'fail',
        message: `${where} answers, but ${pending.length} of ${expected.length} migrations are pending (${pending.join(', ')}): run \`keyward migrate\``,
      };
    }
    const unknown = applied.filter((m) => !expected.includes(m));
    if (unknown.length > 0) {
      return { name: 'database', status: 'warn', message: `${where} has migrations this version does not know (${unknown.join(', ')}): is keyward older than the database?` };
    }
    return { name: 'database', status: 'ok', message: `${where} reachable; all ${expected.length} migrations applied` };
  } catch (error) {
    return { name: 'database', status: 'fail', message: `cannot reach ${where}: ${reason(error)}` };
  } finally {
    await database.close().catch(() => {});
  }
}

async function checkSlack(config: Config): Promise<Check> {
  const { botToken, apiUrl, socketMode, missing } = config.slack;
  if (!botToken) {
    return {
      name: 'slack', status: 'skip',
      message: 'not configured: create the app from manifest.yml, then set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)',
    };
  }
  const mode = socketMode ? 'Socket Mode' : 'HTTP mode';
  try {
    const res = await fetch(`${apiUrl}auth.test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${botToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => null)) as { ok?: boolean; error?: string; user?: string; team?: string; team_id?: string } | null;
    if (!body?.ok) {
      return { name: 'slack', status: 'fail', message: `Slack refused SLACK_BOT_TOKEN at ${apiUrl}auth.test: ${body?.error ?? `HTTP ${res.status}`}` };
    }
    const who = `authenticated as @${body.user ?? '?'} in ${body.team ?? '?'} (${body.team_id ?? '?'})`;
    if (missing.length > 0) return { name: 'slack', status: 'warn', message: `${who}, but ${mode} also needs ${missing.join(', ')}` };
    return { name: 'slack', status: 'ok', message: `${who}; ${mode}` };
  } catch (error) {
    return { name: 'slack', status: 'fail', message: `cannot reach ${apiUrl}auth.test: ${reason(error)}` };
  }
}

/** Any HTTP answer means the gateway can reach its upstream; the status is reported as is. */
async function checkUpstream(config: Config): Promise<Check[]> {
  const { baseUrl, apiKey } = config.anthropic;
  const checks: Check[] = [];
  try {
    const res = await fetch(baseUrl, { method: 'GET', signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel().catch(() => {});
    checks.push({ name: 'upstream', status: 'ok', message: `${baseUrl} reachable (HTTP ${res.status})` });
  } catch (error) {
    checks.push({ name: 'upstream', status: 'fail', message: `${baseUrl} unreachable: ${reason(error)}` });
  }
  if (!apiKey) checks.push({ name: 'upstream key', status: 'warn', message: 'ANTHROPIC_API_KEY is not set: the gateway cannot forward requests' });
  return checks;
}

function checkSecret(config: Config): Check {
  if (!config.secretGenerated) return { name: 'secret', status: 'ok', message: 'KEYWARD_SECRET comes from the environment' };
  const file = path.join(config.dataDir, 'keyward.secret');
  const where = existsSync(file) ? `generated file ${file}` : `${file} (generated at first start)`;
  const status: Status = config.env === 'production' ? 'fail' : 'warn';
  return {
    name: 'secret', status,
    message: `KEYWARD_SECRET not set; using ${where}. Set KEYWARD_SECRET in production, and never change it: key hashes depend on it`,
  };
}

export const doctorCommand = command({
  path: ['doctor'],
  args: '',
  summary: 'Check configuration, database, Slack, upstream and secret; exit 1 when something is broken.',
  flags: [],
  details: 'Read-only: it never migrates or writes. Slack and upstream checks time out after 5 s.',
  examples: ['keyward doctor', 'keyward doctor --json'],
  needs: 'none',
  parse: (t: Tokens) => need(t, 0, 'doctor', '', 0),
  async run(ctx: BaseCtx) {
    const checks: Check[] = [];
    let config: Config | undefined;
    try {
      config = loadConfig(ctx.env, { generateSecret: false });
      const db = config.databaseUrl.startsWith('file:') ? 'SQLite' : 'PostgreSQL';
      checks.push({ name: 'config', status: 'ok', message: `valid (NODE_ENV=${config.env}, ${db}, port ${config.port})` });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const p of error.problems) checks.push({ name: 'config', status: 'fail', message: p });
    }
    if (config) {
      const [database, slack, upstream] = await Promise.all([checkDatabase(config), checkSlack(config), checkUpstream(config)]);
      checks.push(database, slack, ...upstream, checkSecret(config));
    } else {
      checks.push({ name: 'others', status: 'skip', message: 'skipped until the configuration is valid' });
    }
    const failed = checks.filter((c) => c.status === 'fail').length;
    if (ctx.json) {
      ctx.emit({ ok: failed === 0, checks });
    } else {
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) ctx.print(`${MARK[c.status]} ${c.name.padEnd(width)}  ${c.message}`);
      ctx.print(failed === 0 ? '\nAll hard checks passed.' : `\n${failed} problem${failed === 1 ? '' : 's'} found.`);
    }
    return failed === 0 ? 0 : 1;
  },
});
