/** A mistake in how the command was typed: exit code 2, nothing touched. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Command path whose help the message points to (`keys create`), if any. */
    readonly helpFor?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Every flag the CLI knows, with its kind. A name means the same thing under every verb. */
export const FLAG_KINDS = {
  json: 'boolean',
  help: 'boolean',
  all: 'boolean',
  org: 'string',
  scope: 'string',
  env: 'string',
  expires: 'string',
  rpm: 'string',
  owner: 'string',
  reason: 'string',
  grace: 'string',
  project: 'string',
  since: 'string',
  limit: 'string',
  actor: 'string',
  admin: 'string',
  due: 'string',
  unreviewed: 'string',
  'transfer-to': 'string',
  'dry-run': 'boolean',
} as const;
export type FlagName = keyof typeof FLAG_KINDS;
export type Flags = Partial<Record<FlagName, string | true>>;

export interface Tokens {
  positionals: string[];
  flags: Flags;
}

const isFlagName = (name: string): name is FlagName => Object.hasOwn(FLAG_KINDS, name);

/**
 * Splits argv into positionals and flags. `--flag value`, `--flag=value`, `-h`, and `--` (everything
 * after it is positional, for names that start with "-"). Unknown flags, missing values and repeats
 * are usage errors; which flags a verb accepts is checked once the verb is known.
 */
export function tokenize(argv: string[]): Tokens {
  const positionals: string[] = [];
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === '-h') {
      flags.help = true;
      continue;
    }
    if (!token.startsWith('--')) {
      if (token.length > 1 && token.startsWith('-')) throw new UsageError(`unknown option ${clip(token)}`);
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    if (!isFlagName(name)) throw new UsageError(`unknown option --${clip(name)}`);
    if (flags[name] !== undefined) throw new UsageError(`--${name} was given twice`);
    if (FLAG_KINDS[name] === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = token.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      }
    }
    if (value === undefined || value.trim() === '') throw new UsageError(`--${name} needs a value`);
    flags[name] = value;
  }
  return { positionals, flags };
}

/** Keeps echoed user input short in one-line messages. */
export const clip = (text: string, max = 40) => (text.length > max ? `${text.slice(0, max)}…` : text);
