import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, isPostgresUrl, loadConfig, loadDotEnv, parseDotEnv } from '../../src/config/index.js';

const SECRET = 's'.repeat(32);
const load = (env: Record<string, string>) => loadConfig(env, { generateSecret: false });
function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'kw-config-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = load({ DATA_DIR: '/tmp/kw-data' });
    expect(c.port).toBe(3000);
    expect(c.env).toBe('development');
    expect(c.slack.apiUrl).toBe('https://slack.com/api/');
    expect(c.anthropic.baseUrl).toBe('https://api.anthropic.com');
    expect(c.timezone).toBe('UTC');
    expect(c.logLevel).toBe('info');
    expect(c.admins).toEqual([]);
    expect(c.databaseUrl).toBe('file:/tmp/kw-data/keyward.db');
    expect(c.slack.missing).toEqual(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET']);
    expect(c.slack.socketMode).toBe(false);
    expect(c.secretGenerated).toBe(true);
    expect(c.secret.length).toBeGreaterThanOrEqual(32);
  });

  it('reads every variable', () => {
    const c = load({
      NODE_ENV: 'production', PORT: '8080', DATABASE_URL: 'postgresql://u@h:5432/db', SLACK_BOT_TOKEN: 'xoxb-1-2',
      SLACK_APP_TOKEN: 'xapp-1-2', SLACK_API_URL: 'http://127.0.0.1:9999/api', KEYWARD_ADMINS: ' U012ABC, W99XYZ ,',
      KEYWARD_SECRET: SECRET, ANTHROPIC_BASE_URL: 'https://proxy.example/', ANTHROPIC_API_KEY: 'sk-ant-x',
      KEYWARD_TIMEZONE: 'Europe/Berlin', LOG_LEVEL: 'debug', SLACK_TEAM_IDS: 'T0AAA, E0GRID',
    });
    expect(c.slack.teamIds).toEqual(['T0AAA', 'E0GRID']);
    expect(load({ KEYWARD_SECRET: SECRET, KEYWARD_WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/8, ::1' }).webhookAllowPrivate).toEqual([
      { bytes: [10, 0, 0, 0], prefix: 8 }, { bytes: [...Array(15).fill(0), 1], prefix: 128 },
    ]);
    expect(c.webhookAllowPrivate).toEqual([]);
    expect(c).toMatchObject({
      env: 'production', port: 8080, databaseUrl: 'postgresql://u@h:5432/db', admins: ['U012ABC', 'W99XYZ'],
      secret: SECRET, secretGenerated: false, timezone: 'Europe/Berlin', logLevel: 'debug',
      anthropic: { baseUrl: 'https://proxy.example', apiKey: 'sk-ant-x' },
      slack: { botToken: 'xoxb-1-2', appToken: 'xapp-1-2', apiUrl: 'http://127.0.0.1:9999/api/', socketMode: true, missing: [] },
    });
    expect(isPostgresUrl(c.databaseUrl)).toBe(true);
  });

  it('HTTP mode needs the signing secret; Socket Mode does not', () => {
    expect(load({ SLACK_BOT_TOKEN: 'xoxb-1' }).slack.missing).toEqual(['SLACK_SIGNING_SECRET']);
    expect(load({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abc' }).slack.missing).toEqual([]);
  });

  it.each([
    ['NODE_ENV', 'prod'],
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '1.5'],
    ['DATABASE_URL', 'mysql://u@h/db'],
    ['SLACK_BOT_TOKEN', 'xoxp-user-token'],
    ['SLACK_APP_TOKEN', 'xoxb-not-app'],
    ['SLACK_API_URL', 'not a url'],
    ['KEYWARD_ADMINS', 'U012ABC,alice'],
    ['SLACK_TEAM_IDS', 'T012ABC,acme'],
    ['KEYWARD_WEBHOOK_ALLOW_PRIVATE', '10.0.0.0/8,intranet'],
    ['KEYWARD_SECRET', 'too-short'],
    ['ANTHROPIC_BASE_URL', 'api.anthropic.com'],
    ['KEYWARD_TIMEZONE', 'Mars/Olympus_Mons'],
    ['LOG_LEVEL', 'loud'],
  ])('%s=%j gives exactly one error naming it', (name, value) => {
    const list = problems({ [name]: value, KEYWARD_SECRET: SECRET, ...(name === 'KEYWARD_SECRET' ? { [name]: value } : {}) });
    expect(list).toHaveLength(1);
    expect(list[0]!.startsWith(`${name}: `)).toBe(true);
    expect(list[0]!.length).toBeLessThan(160);
  });

  it('reports every bad variable at once, one line each, in one ConfigError', () => {
    let error: ConfigError | undefined;
    try {
      load({ PORT: 'x', LOG_LEVEL: 'loud', KEYWARD_SECRET: 'short', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'KEYWARD_SECRET', 'LOG_LEVEL', 'PORT']);
    expect(error?.message).toContain('Invalid configuration');
  });

  it('production requires KEYWARD_SECRET', () => {
    const list = problems({ NODE_ENV: 'production' });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatch(/^KEYWARD_SECRET: required when NODE_ENV=production/);
    expect(load({ NODE_ENV: 'production', KEYWARD_SECRET: SECRET }).secret).toBe(SECRET);
  });

  it('outside production generates one secret into the data folder (mode 600) and reuses it', () => {
    const dir = tempDir();
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.secretGenerated).toBe(true);
    expect(a.secret).toBe(b.secret);
    expect(a.secret.length).toBeGreaterThanOrEqual(32);
    const file = path.join(dir, 'keyward.secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(a.secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('treats empty optional values as unset', () => {
    const c = load({ DATABASE_URL: '', SLACK_BOT_TOKEN: '  ', KEYWARD_SECRET: '', DATA_DIR: '/tmp/kw-x' });
    expect(c.databaseUrl).toBe('file:/tmp/kw-x/keyward.db');
    expect(c.slack.botToken).toBeUndefined();
    expect(c.secretGenerated).toBe(true);
  });
});

describe('.env parsing', () => {
  it('reads KEY=value lines with comments, quotes, export and CRLF', () => {
    const text = [
      '# a comment', '', 'PORT=4000', 'export LOG_LEVEL=debug\r', 'KEYWARD_SECRET="quoted value with # hash"',
      "SINGLE='single'", 'WITH_COMMENT=plain # trailing comment', 'EQUALS=a=b=c', 'EMPTY=', 'HASH_IN_VALUE=abc#def',
      'not a line', '  SPACED = value',
    ].join('\n');
    expect(parseDotEnv(text)).toEqual({
      PORT: '4000', LOG_LEVEL: 'debug', KEYWARD_SECRET: 'quoted value with # hash', SINGLE: 'single',
      WITH_COMMENT: 'plain', EQUALS: 'a=b=c', EMPTY: '', HASH_IN_VALUE: 'abc#def', SPACED: 'value',
    });
  });

  it('loads a file without overriding variables already set', () => {
    const dir = tempDir();
    const file = path.join(dir, '.env');
    writeFileSync(file, 'PORT=4000\nLOG_LEVEL=debug\n');
    const env: NodeJS.ProcessEnv = { PORT: '5000' };
    loadDotEnv(file, env);
    expect(env).toEqual({ PORT: '5000', LOG_LEVEL: 'debug' });
    loadDotEnv(path.join(dir, 'missing.env'), env); // absent file: no error, no change
    expect(env).toEqual({ PORT: '5000', LOG_LEVEL: 'debug' });
  });
});

describe('config edge cases', () => {
  it('treats an empty variable as unset and trims .env values', () => {
    expect(loadConfig({ PORT: '', KEYWARD_SECRET: 'x'.repeat(32) }, { generateSecret: false }).port).toBe(3000);
    expect(parseDotEnv('LOG_LEVEL=debug  \nA="x y" # note\nB=plain # c\nC=\'q\'')).toEqual({ LOG_LEVEL: 'debug', A: 'x y', B: 'plain', C: 'q' });
  });
});
