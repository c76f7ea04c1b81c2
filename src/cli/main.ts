import { userInfo } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, loadDotEnv } from '../config/index.js';
import { openDatabase } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { isDomainError } from '../domain/errors.js';
import { createLogger, scrubText } from '../logger.js';
import { cliActor, createServices } from '../services/index.js';
import { orgForCli } from '../services/orgs.js';
import { tokenize, UsageError, type FlagName, type Flags } from './args.js';
import { adminCommands } from './commands/admin.js';
import { keyCommands } from './commands/keys.js';
import { limitCommands } from './commands/limits.js';
import { runCommand } from './commands/run.js';
import { settingsCommands } from './commands/settings.js';
import { usageCommands } from './commands/usage.js';
import { projectCommands } from './commands/projects.js';
import { governanceCommands } from './commands/reviews.js';
import { safeUrl, doctorCommand } from './doctor.js';
import { cliText } from './format.js';
import { commandHelp, groupHelp, overview } from './help.js';
import type { BaseCtx, Command, Ctx, Out } from './spec.js';

export const COMMANDS: Command[] = [...projectCommands, ...keyCommands, ...adminCommands, ...governanceCommands, ...limitCommands, ...usageCommands, ...settingsCommands, runCommand, doctorCommand];
const GROUPS = new Set(COMMANDS.filter((c) => c.path.length === 2).map((c) => c.path[0]));

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: Out;
  stderr: Out;
  /** Who the audit log names (`cli:<osUser>`); defaults to the OS account. */
  osUser?: string;
  now?: () => Date;
  /** Folder whose `.env` is read (default: the working directory). */
  cwd?: string;
}

/** EX_CONFIG from sysexits.h: the configuration is wrong, not the command. */
export const EXIT = { ok: 0, refused: 1, usage: 2, config: 78 } as const;

type Resolved =
  | { kind: 'help'; text: string; ok: boolean }
  | { kind: 'run'; command: Command; input: unknown; flags: Flags };

function find(words: string[]): Command | undefined {
  return COMMANDS.find((c) => c.path.length === words.length && c.path.every((w, i) => w === words[i]));
}

/** argv (after `node keyward`) → help text or a parsed command. Throws UsageError. */
export function resolve(argv: string[]): Resolved {
  const { positionals, flags } = tokenize(argv);
  const [verb, sub] = positionals;
  if (verb === 'help') return { kind: 'help', text: helpFor(positionals.slice(1)), ok: true };
  if (!verb) return { kind: 'help', text: overview(COMMANDS), ok: flags.help === true };
  const grouped = GROUPS.has(verb);
  if (grouped && !sub) {
    if (flags.help) return { kind: 'help', text: helpFor([verb]), ok: true };
    const subs = COMMANDS.filter((c) => c.path[0] === verb).map((c) => c.path[1]);
    throw new UsageError(`${verb} needs a command: ${subs.join(', ')}`, verb);
  }
  const words = grouped ? [verb, sub!] : [verb];
  const command = find(words);
  if (!command) {
    throw new UsageError(`unknown command "${words.join(' ').slice(0, 60)}"`, grouped ? verb : undefined);
  }
  if (flags.help) return { kind: 'help', text: commandHelp(command), ok: true };
  const allowed = new Set<FlagName>([...command.flags, 'json', 'help', ...(command.needs === 'org' ? (['org'] as const) : [])]);
  for (const name of Object.keys(flags) as FlagName[]) {
    if (!allowed.has(name)) throw new UsageError(`${words.join(' ')} does not take --${name}`, words.join(' '));
  }
  let input: unknown;
  try {
    input = command.parse({ positionals: positionals.slice(words.length), flags });
  } catch (error) {
    if (error instanceof UsageError && !error.helpFor) throw new UsageError(error.message, words.join(' '));
    throw error;
  }
  return { kind: 'run', command, input, flags };
}

function helpFor(words: string[]): string {
  if (words.length === 0) return overview(COMMANDS);
  const command = find(words);
  if (command) return commandHelp(command);
  if (words.length === 1 && GROUPS.has(words[0]!)) return groupHelp(words[0]!, COMMANDS.filter((c) => c.path[0] === words[0]));
  throw new UsageError(`no help for "${words.join(' ').slice(0, 60)}": no such command`);
}

function osUserName(io: CliIo): string {
  let name = io.osUser;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = io.env.USER ?? io.env.USERNAME ?? 'unknown';
    }
  }
  return name.replace(/[^\w.@-]/g, '_').slice(0, 64) || 'unknown';
}

/** Runs one CLI invocation (`argv` as in process.argv) and returns the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const fail = (message: string) => void io.stderr.write(`keyward: ${message}\n`);
  let resolved: Resolved;
  try {
    resolved = resolve(argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const hint = error.helpFor ? `keyward help ${error.helpFor}` : 'keyward help';
    fail(`${error.message.replace(/\.+$/, '')}. Run \`${hint}\`.`);
    return EXIT.usage;
  }
  if (resolved.kind === 'help') {
    (resolved.ok ? io.stdout : io.stderr).write(`${resolved.text}\n`);
    return resolved.ok ? EXIT.ok : EXIT.usage;
  }

  const { command, input, flags } = resolved;
  const env = { ...io.env };
  loadDotEnv(path.join(io.cwd ?? process.cwd(), '.env'), env);
  const now = io.now ?? (() => new Date());
  const base: BaseCtx = {
    env,
    json: flags.json === true,
    now,
    print: (text) => void io.stdout.write(`${text}\n`),
    emit: (value) => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    warn: (text) => void io.stderr.write(`${text}\n`),
  };
  const run = async (ctx: BaseCtx) => {
    const code = await command.run(ctx as Ctx, input);
    return typeof code === 'number' ? code : EXIT.ok;
  };

  try {
    if (command.needs === 'none') return await run(base);
    const config = loadConfig(env);
    if (command.needs === 'config') return await run({ ...base, config } as BaseCtx);
    try {
      await migrate(config.databaseUrl);
    } catch (error) {
      fail(`cannot open the database at ${safeUrl(config.databaseUrl)}: ${oneLine(error)}. \`keyward doctor\` checks the setup.`);
      return EXIT.refused;
    }
    const database = await openDatabase(config.databaseUrl);
    try {
      const { db } = database;
      if (command.needs === 'db') return await run({ ...base, config, db } as BaseCtx);
      const orgId = await orgForCli(db, now(), typeof flags.org === 'string' ? flags.org.trim() : undefined);
      // Service logs go to stderr, quiet unless LOG_LEVEL asks: stdout is the command's output.
      const logger = createLogger(env.LOG_LEVEL ? config.logLevel : 'warn', { write: (s: string) => io.stderr.write(s) });
      const services = createServices({
        db, secret: config.secret, logger, now, timezone: config.timezone,
        require2fa: config.require2fa, approvalTtlMs: config.approvalTtlHours * 3_600_000,
        webhookAllowPrivate: config.webhookAllowPrivate,
      });
      const ctx: Ctx = { ...base, config, db, services, actor: cliActor(orgId, osUserName(io)) };
      return await run(ctx);
    } finally {
      await database.close().catch(() => {});
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`keyward: ${error.message}\n`);
      return EXIT.config;
    }
    if (error instanceof UsageError) {
      fail(error.message);
      return EXIT.usage;
    }
    if (isDomainError(error)) {
      fail(cliText(error.message));
      return EXIT.refused;
    }
    fail(`unexpected error: ${oneLine(error)}`);
    if (io.env.KEYWARD_DEBUG) io.stderr.write(`${scrubText(String((error as Error).stack))}\n`);
    return EXIT.refused;
  }
}

const oneLine = (error: unknown) =>
  scrubText(((error as Error)?.message ?? String(error)).trim().split('\n').filter(Boolean).pop() ?? 'unknown error');

/** Process entry used by bin/keyward.js. */
export async function main(): Promise<number> {
  // `keyward keys list | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  return runCli(process.argv, { env: process.env, stdout: process.stdout, stderr: process.stderr });
}
