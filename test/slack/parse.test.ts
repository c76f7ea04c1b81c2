import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import {
  parseChannel, parseKeysCommand, parseProjectCommand, parseUser, splitFlags, tokenize, unescapeSlack,
} from '../../src/slack/parse.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('invalid');
    return (error as DomainError).message;
  }
  throw new Error('expected a refusal');
};

describe('tokenize', () => {
  it('splits on any whitespace and groups quoted words (straight and smart quotes)', () => {
    expect(tokenize('  create  beta\tProd\nApp ')).toEqual(['create', 'beta', 'Prod', 'App']);
    expect(tokenize('create beta "Production App" --scope full')).toEqual(['create', 'beta', 'Production App', '--scope', 'full']);
    expect(tokenize("a 'b c' “d e” ‘f g’")).toEqual(['a', 'b c', 'd e', 'f g']);
    expect(tokenize('say ""')).toEqual(['say', '']);
  });
  it('keeps apostrophes inside words and unicode as is', () => {
    expect(tokenize("don't stop")).toEqual(["don't", 'stop']);
    expect(tokenize('名前 🚀 ünï')).toEqual(['名前', '🚀', 'ünï']);
  });
  it('refuses an unclosed quote and over-long text', () => {
    expect(refusal(() => tokenize('create "oops'))).toContain('quote is not closed');
    expect(refusal(() => tokenize('x'.repeat(5_000)))).toContain('too long (5000 characters');
    expect(tokenize('')).toEqual([]);
  });
});

describe('flags', () => {
  it('accepts --flag value, --flag=value and the em dash Slack substitutes', () => {
    expect(splitFlags(['a', '--scope', 'full', '--env=prod', '—rpm', '5'], ['scope', 'env', 'rpm'])).toEqual({
      args: ['a'],
      flags: { scope: 'full', env: 'prod', rpm: '5' },
    });
  });
  it('refuses unknown, valueless and repeated flags', () => {
    expect(refusal(() => splitFlags(['--nope', 'x'], ['scope']))).toContain('Unknown option "--nope". This command takes: --scope');
    expect(refusal(() => splitFlags(['--all'], []))).toContain('takes no options');
    expect(refusal(() => splitFlags(['--scope'], ['scope']))).toContain('--scope needs a value');
    expect(refusal(() => splitFlags(['--scope', '--env', 'x'], ['scope', 'env']))).toContain('--scope needs a value');
    expect(refusal(() => splitFlags(['--env', 'a', '--env', 'b'], ['env']))).toContain('given twice');
  });
});

describe('mentions', () => {
  it('parses escaped users with and without a label, and bare ids', () => {
    expect(parseUser('<@U123ABC|alice>')).toBe('U123ABC');
    expect(parseUser('<@U123ABC>')).toBe('U123ABC');
    expect(parseUser('<@W0ENTERPRISE|bob smith>')).toBe('W0ENTERPRISE');
    expect(parseUser('U999')).toBe('U999');
  });
  it('explains plain @names and other text', () => {
    expect(refusal(() => parseUser('@alice'))).toContain('@-mention menu');
    expect(refusal(() => parseUser('<!channel>'))).toContain('is not a person');
    expect(refusal(() => parseUser('<#C123|x>'))).toContain('is not a person');
    expect(refusal(() => parseUser(undefined))).toContain('Mention the person');
  });
  it('parses channels both ways and refuses DMs and plain #names', () => {
    expect(parseChannel('<#C0ALERTS|alerts>')).toBe('C0ALERTS');
    expect(parseChannel('<#G0PRIVATE>')).toBe('G0PRIVATE');
    expect(parseChannel('C0RAW')).toBe('C0RAW');
    expect(refusal(() => parseChannel('#alerts'))).toContain('#-menu');
    expect(refusal(() => parseChannel('D0DM'))).toContain('is not a channel');
  });
  it('unescapes Slack HTML entities in free text', () => {
    expect(unescapeSlack('R&amp;D &lt;team&gt;')).toBe('R&D <team>');
  });
});

describe('/project grammar', () => {
  it('parses every subcommand', () => {
    expect(parseProjectCommand('')).toEqual({ kind: 'help' });
    expect(parseProjectCommand('HELP')).toEqual({ kind: 'help' });
    expect(parseProjectCommand('list')).toEqual({ kind: 'list' });
    expect(parseProjectCommand('create support-bot Claude for &amp; support')).toEqual({
      kind: 'create', name: 'support-bot', description: 'Claude for & support',
    });
    expect(parseProjectCommand('show alpha')).toEqual({ kind: 'show', name: 'alpha' });
    expect(parseProjectCommand('add alpha <@U1AB|a> Developer')).toEqual({ kind: 'add', name: 'alpha', userId: 'U1AB', role: 'developer' });
    expect(parseProjectCommand('role alpha <@U1AB> admin')).toEqual({ kind: 'role', name: 'alpha', userId: 'U1AB', role: 'admin' });
    expect(parseProjectCommand('remove alpha <@U1AB>')).toEqual({ kind: 'remove', name: 'alpha', userId: 'U1AB' });
    expect(parseProjectCommand('archive alpha')).toEqual({ kind: 'archive', name: 'alpha' });
    expect(parseProjectCommand('channel alpha <#C1AB|x>')).toEqual({ kind: 'channel', name: 'alpha', channelId: 'C1AB' });
  });
  it('refuses wrong arity, unknown subcommands and roles with the usage', () => {
    expect(refusal(() => parseProjectCommand('add alpha <@U1AB>'))).toContain('Usage: `/project add <name> @user');
    expect(refusal(() => parseProjectCommand('show a b'))).toContain('Too many arguments ("b")');
    expect(refusal(() => parseProjectCommand('explode'))).toContain('Unknown subcommand "explode"');
    expect(refusal(() => parseProjectCommand('add a <@U1AB> god'))).toContain('Unknown role "god"');
    expect(refusal(() => parseProjectCommand(`${'z'.repeat(200)}`))).toContain('…');
  });
});

describe('/keys grammar', () => {
  it('parses create with and without flags, and the modal form', () => {
    expect(parseKeysCommand('create')).toEqual({ kind: 'create-modal' });
    expect(parseKeysCommand('create beta Production App --scope read-only --env production --expires 30d --rpm 120')).toEqual({
      kind: 'create', project: 'beta', name: 'Production App', scope: 'read-only', environment: 'prod',
      expiresInMs: 30 * 86_400_000, rpm: 120,
    });
    expect(parseKeysCommand('create beta "Local Dev"')).toEqual({ kind: 'create', project: 'beta', name: 'Local Dev' });
  });
  it('parses list/show/revoke/rotate', () => {
    expect(parseKeysCommand('list')).toEqual({ kind: 'list' });
    expect(parseKeysCommand('list beta')).toEqual({ kind: 'list', project: 'beta' });
    expect(parseKeysCommand('show key_abcdefgh')).toEqual({ kind: 'show', keyId: 'key_abcdefgh' });
    expect(parseKeysCommand('revoke key_abcdefgh')).toEqual({ kind: 'revoke', keyId: 'key_abcdefgh' });
    expect(parseKeysCommand('rotate key_abcdefgh')).toEqual({ kind: 'rotate', keyId: 'key_abcdefgh' });
    expect(parseKeysCommand('rotate key_abcdefgh --grace 2h')).toEqual({ kind: 'rotate', keyId: 'key_abcdefgh', graceMs: 7_200_000 });
    expect(parseKeysCommand('check key_abcdefgh')).toEqual({ kind: 'check', ref: 'key_abcdefgh' });
    expect(parseKeysCommand('check sk-kw-…ab3D')).toEqual({ kind: 'check', ref: 'sk-kw-…ab3D' });
    expect(refusal(() => parseKeysCommand('check'))).toContain('/keys check <key-id');
  });
  it('refuses bad flags and values with specific messages', () => {
    expect(refusal(() => parseKeysCommand('create beta X --scope root'))).toContain('Unknown scope "root"');
    expect(refusal(() => parseKeysCommand('create beta X --expires 5w'))).toContain('--expires takes a number of days');
    expect(refusal(() => parseKeysCommand('create beta X --rpm 0'))).toContain('from 1 to 1000000');
    expect(refusal(() => parseKeysCommand('create beta X --rpm 1e3'))).toContain('whole number');
    expect(refusal(() => parseKeysCommand('create --scope full'))).toContain('Missing arguments');
    expect(refusal(() => parseKeysCommand('rotate key_abcdefgh --grace 1000h'))).toContain('at most 30 days');
    expect(refusal(() => parseKeysCommand('revoke key_a key_b'))).toContain('Too many arguments');
    expect(refusal(() => parseKeysCommand('list --all'))).toContain('takes no options');
    expect(refusal(() => parseKeysCommand('delete key_a'))).toContain('Unknown subcommand "delete"');
  });
  it('survives hostile text without throwing anything but DomainError', () => {
    const hostile = ['\u0000\u0001', '"""', '-- --', '—', '<@>', '<#>', '\u202e', '🔑'.repeat(500), 'create a '.repeat(300), '\\"\\'];
    for (const text of hostile) {
      for (const parse of [parseKeysCommand, parseProjectCommand]) {
        try {
          parse(text);
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
          expect((error as Error).message.length).toBeLessThan(400);
        }
      }
    }
  });
});
