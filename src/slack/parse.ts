/**
 * Pure parsing of slash-command text: tokens (with quotes), flags, escaped user and channel
 * mentions. Everything here throws DomainError('invalid') with a message the user can act on.
 */
import { parseDays, parseGrace } from '../domain/durations.js';
import { invalid } from '../domain/errors.js';
import { parseEnvironment, parseScope, type Environment, type Scope } from '../domain/keys.js';
import { parseRole, type Role } from '../domain/roles.js';

/** Slack caps command text well below this; anything longer is refused before any parsing. */
export const MAX_TEXT = 3000;

/** Shortens user text quoted back in an error message. */
export const clip = (text: string, max = 40) => (text.length > max ? `${text.slice(0, max)}…` : text);

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '”': '”', '‘': '’', '’': '’' };

/** Splits on whitespace; "double", 'single' and Slack's smart quotes group words. */
export function tokenize(text: string): string[] {
  if (text.length > MAX_TEXT) throw invalid(`That command text is too long (${text.length} characters; at most ${MAX_TEXT}).`);
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  let closing: string | null = null;
  for (const ch of text) {
    if (closing) {
      if (ch === closing) closing = null;
      else current += ch;
      continue;
    }
    if (/\s/u.test(ch)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else if (QUOTES[ch] && (!inToken || current === '')) {
      closing = QUOTES[ch]!;
      inToken = true;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (closing) throw invalid('A quote is not closed: check the `"` in your command.');
  if (inToken) tokens.push(current);
  return tokens;
}

/** Slack HTML-escapes `&`, `<` and `>` in command text; free text is stored unescaped. */
export const unescapeSlack = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export interface Parsed {
  args: string[];
  flags: Record<string, string>;
}

/** Separates `--flag value` / `--flag=value` from positional words; only `allowed` flags pass. */
export function splitFlags(tokens: string[], allowed: readonly string[]): Parsed {
  const args: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    // Slack turns "--" into an em dash on some clients: accept "—scope" too.
    const m = /^(?:--|—)([A-Za-z-]*)(?:=(.*))?$/su.exec(t);
    if (!m) {
      args.push(t);
      continue;
    }
    const name = m[1]!.toLowerCase();
    if (!allowed.includes(name)) {
      throw invalid(
        allowed.length
          ? `Unknown option "${clip(t)}". This command takes: ${allowed.map((f) => `--${f}`).join(', ')}.`
          : `This command takes no options (got "${clip(t)}").`,
      );
    }
    let value = m[2];
    if (value === undefined) {
      const next = tokens[i + 1];
      if (next === undefined || /^(--|—)/.test(next)) throw invalid(`--${name} needs a value.`);
      value = next;
      i++;
    }
    if (name in flags) throw invalid(`--${name} is given twice.`);
    flags[name] = value;
  }
  return { args, flags };
}

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

/** `<@U123|name>`, `<@U123>` or a bare user id → `U123`. */
export function parseUser(token: string | undefined): string {
  if (!token) throw invalid('Mention the person, e.g. `@alice`.');
  const m = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(token);
  if (m) return m[1]!;
  if (USER_ID.test(token)) return token;
  if (token.startsWith('@')) {
    throw invalid(`Slack did not send an id for "${clip(token)}": pick the person from the @-mention menu so it turns into a mention.`);
  }
  throw invalid(`"${clip(token)}" is not a person: mention them, e.g. \`@alice\`.`);
}

/** `<#C123|name>`, `<#C123>` or a bare channel id → `C123`. */
export function parseChannel(token: string | undefined): string {
  if (!token) throw invalid('Name the channel, e.g. `#team-alerts`.');
  const m = /^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(token);
  if (m) return m[1]!;
  if (CHANNEL_ID.test(token) && !token.startsWith('D')) return token;
  if (token.startsWith('#')) {
    throw invalid(`Slack did not send an id for "${clip(token)}": pick the channel from the #-menu so it turns into a link.`);
  }
  throw invalid(`"${clip(token)}" is not a channel: use a channel link, e.g. \`#team-alerts\`.`);
}

export type ProjectCommand =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'create'; name: string; description: string }
  | { kind: 'show'; name: string }
  | { kind: 'add'; name: string; userId: string; role: Role }
  | { kind: 'role'; name: string; userId: string; role: Role }
  | { kind: 'remove'; name: string; userId: string }
  | { kind: 'archive'; name: string }
  | { kind: 'channel'; name: string; channelId: string }
  | { kind: 'policy'; name: string; policy: string };

const PROJECT_USAGE: Record<string, string> = {
  create: '/project create <name> [description...]',
  list: '/project list',
  show: '/project show <name>',
  add: '/project add <name> @user <admin|developer|viewer>',
  role: '/project role <name> @user <admin|developer|viewer>',
  remove: '/project remove <name> @user',
  archive: '/project archive <name>',
  channel: '/project channel <name> #channel',
  policy: '/project policy <name> approval=none|prod|always',
};

function arity(args: string[], min: number, max: number, usage: string) {
  if (args.length < min) throw invalid(`Missing arguments. Usage: \`${usage}\``);
  if (args.length > max) throw invalid(`Too many arguments ("${clip(args.slice(max).join(' '))}"). Usage: \`${usage}\``);
}

function unknownSub(command: string, sub: string, subs: string[]): never {
  throw invalid(`Unknown subcommand "${clip(sub)}". Try one of: ${subs.join(', ')} — or \`${command} help\`.`);
}

export function parseProjectCommand(text: string): ProjectCommand {
  const [rawSub, ...rest] = tokenize(text);
  const sub = (rawSub ?? 'help').toLowerCase();
  if (sub === 'help') return { kind: 'help' };
  const usage = PROJECT_USAGE[sub];
  if (!usage) unknownSub('/project', rawSub!, [...Object.keys(PROJECT_USAGE), 'help']);
  const { args } = splitFlags(rest, []);
  switch (sub) {
    case 'list':
      arity(args, 0, 0, usage);
      return { kind: 'list' };
    case 'create':
      arity(args, 1, Infinity, usage);
      return { kind: 'create', name: args[0]!, description: unescapeSlack(args.slice(1).join(' ')) };
    case 'show':
    case 'archive':
      arity(args, 1, 1, usage);
      return { kind: sub, name: args[0]! };
    case 'add':
    case 'role':
      arity(args, 3, 3, usage);
      return { kind: sub, name: args[0]!, userId: parseUser(args[1]), role: parseRole(args[2]!) };
    case 'remove':
      arity(args, 2, 2, usage);
      return { kind: 'remove', name: args[0]!, userId: parseUser(args[1]) };
    case 'policy':
      arity(args, 2, 2, usage);
      return { kind: 'policy', name: args[0]!, policy: args[1]! };
    default:
      arity(args, 2, 2, usage);
      return { kind: 'channel', name: args[0]!, channelId: parseChannel(args[1]) };
  }
}

export interface CreateKeyArgs {
  project: string;
  name: string;
  scope?: Scope;
  environment?: Environment;
  expiresInMs?: number;
  rpm?: number;
  /** Why the key is needed, for approvers when the project policy asks for approval. */
  reason?: string;
}

export type KeysCommand =
  | { kind: 'help' }
  | { kind: 'create-modal' }
  | ({ kind: 'create' } & CreateKeyArgs)
  | { kind: 'list'; project?: string }
  | { kind: 'requests' }
  | { kind: 'show'; keyId: string }
  | { kind: 'revoke'; keyId: string }
  | { kind: 'rotate'; keyId: string; graceMs?: number }
  | { kind: 'check'; ref: string };

const KEYS_USAGE: Record<string, string> = {
  create: '/keys create <project> <name...> [--scope full|inference|read-only] [--env dev|staging|prod] [--expires <N>d] [--rpm <N>] [--reason "..."]',
  list: '/keys list [project]',
  requests: '/keys requests',
  show: '/keys show <key-id>',
  revoke: '/keys revoke <key-id>',
  rotate: '/keys rotate <key-id> [--grace <N>h]',
  check: '/keys check <key-id or last 4 characters of the secret>',
};

export function parseRpm(raw: string): number {
  if (!/^\d{1,7}$/.test(raw.trim())) throw invalid(`--rpm takes a whole number of requests per minute (got "${clip(raw)}").`);
  const n = Number(raw);
  if (n < 1 || n > 1_000_000) throw invalid('--rpm takes a whole number of requests per minute from 1 to 1000000.');
  return n;
}

export function parseKeysCommand(text: string): KeysCommand {
  const [rawSub, ...rest] = tokenize(text);
  const sub = (rawSub ?? 'help').toLowerCase();
  if (sub === 'help') return { kind: 'help' };
  const usage = KEYS_USAGE[sub];
  if (!usage) unknownSub('/keys', rawSub!, [...Object.keys(KEYS_USAGE), 'help']);
  switch (sub) {
    case 'create': {
      const { args, flags } = splitFlags(rest, ['scope', 'env', 'expires', 'rpm', 'reason']);
      if (args.length === 0 && Object.keys(flags).length === 0) return { kind: 'create-modal' };
      arity(args, 2, Infinity, usage);
      return {
        kind: 'create',
        project: args[0]!,
        name: args.slice(1).join(' '),
        ...(flags.scope !== undefined ? { scope: parseScope(flags.scope) } : {}),
        ...(flags.env !== undefined ? { environment: parseEnvironment(flags.env) } : {}),
        ...(flags.expires !== undefined ? { expiresInMs: parseDays(flags.expires) } : {}),
        ...(flags.rpm !== undefined ? { rpm: parseRpm(flags.rpm) } : {}),
        ...(flags.reason !== undefined ? { reason: unescapeSlack(flags.reason) } : {}),
      };
    }
    case 'requests': {
      arity(splitFlags(rest, []).args, 0, 0, usage);
      return { kind: 'requests' };
    }
    case 'list': {
      const { args } = splitFlags(rest, []);
      arity(args, 0, 1, usage);
      return args[0] ? { kind: 'list', project: args[0] } : { kind: 'list' };
    }
    case 'rotate': {
      const { args, flags } = splitFlags(rest, ['grace']);
      arity(args, 1, 1, usage);
      return { kind: 'rotate', keyId: args[0]!, ...(flags.grace !== undefined ? { graceMs: parseGrace(flags.grace) } : {}) };
    }
    case 'check': {
      const { args } = splitFlags(rest, []);
      arity(args, 1, 1, usage);
      return { kind: 'check', ref: args[0]! };
    }
    default: {
      const { args } = splitFlags(rest, []);
      arity(args, 1, 1, usage);
      return { kind: sub as 'show' | 'revoke', keyId: args[0]! };
    }
  }
}
