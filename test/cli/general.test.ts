import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tokenize } from '../../src/cli/args.js';
import { parseChannelId, parseUserId } from '../../src/cli/ids.js';
import { COMMANDS, runCli } from '../../src/cli/main.js';
import { parseSince } from '../../src/domain/durations.js';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { cliFor, SECRET, snapshot, START, type Run } from './helpers.js';

describe('argument parsing', () => {
  it('splits flags and positionals; -- ends flags', () => {
    expect(tokenize(['keys', 'create', 'p', 'My', 'Key', '--scope=full', '--env', 'prod', '--json'])).toEqual({
      positionals: ['keys', 'create', 'p', 'My', 'Key'],
      flags: { scope: 'full', env: 'prod', json: true },
    });
    expect(tokenize(['keys', 'create', 'p', '--', '--odd-name'])).toEqual({ positionals: ['keys', 'create', 'p', '--odd-name'], flags: {} });
    expect(tokenize(['-h']).flags).toEqual({ help: true });
  });

  it('refuses unknown options, missing values, repeats and values on switches', () => {
    expect(() => tokenize(['--nope'])).toThrow('unknown option --nope');
    expect(() => tokenize(['-x'])).toThrow('unknown option -x');
    expect(() => tokenize(['--scope'])).toThrow('--scope needs a value');
    expect(() => tokenize(['--scope', '--json'])).toThrow('--scope needs a value');
    expect(() => tokenize(['--scope='])).toThrow('--scope needs a value');
    expect(() => tokenize(['--json', '--json'])).toThrow('--json was given twice');
    expect(() => tokenize(['--json=yes'])).toThrow('--json takes no value');
  });

  it('reads user and channel ids bare or as pasted Slack escapes', () => {
    for (const raw of ['U012ABC', '<@U012ABC>', '<@U012ABC|ana>', '@U012ABC', ' u012abc ']) expect(parseUserId(raw)).toBe('U012ABC');
    expect(parseUserId('<@W0ENT01|x y>')).toBe('W0ENT01');
    for (const raw of ['C0AB12', '<#C0AB12>', '<#C0AB12|general>', '#C0AB12']) expect(parseChannelId(raw)).toBe('C0AB12');
    for (const bad of ['', 'ana', '<@>', 'C012ABC', '<#U012ABC>', 'U0"; DROP']) expect(() => parseUserId(bad)).toThrow(/not a Slack user id/);
    expect(() => parseChannelId('U012ABC')).toThrow(/not a Slack channel id/);
  });

  it('parses --since durations and dates', () => {
    expect(parseSince('7d', START).toISOString()).toBe('2026-11-19T10:00:00.000Z');
    expect(parseSince('12h', START).toISOString()).toBe('2026-11-25T22:00:00.000Z');
    expect(parseSince('2026-11-01', START).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    for (const bad of ['7', 'yesterday', '2026-13-45', '-3d']) expect(() => parseSince(bad, START)).toThrow(/--since takes/);
  });
});

describe('help', () => {
  const io = () => {
    const o = { out: '', err: '' };
    return { o, io: { env: {}, stdout: { write: (s: string) => (o.out += s) }, stderr: { write: (s: string) => (o.err += s) } } };
  };
  const run = async (...args: string[]) => {
    const { o, io: streams } = io();
    const code = await runCli(['node', 'keyward', ...args], streams);
    return { code, ...o };
  };

  it('has help with usage and examples for every verb, via help, --help and -h', async () => {
    for (const c of COMMANDS) {
      for (const args of [['help', ...c.path], [...c.path, '--help'], [...c.path, '-h']]) {
        const r = await run(...args);
        expect(r.code, args.join(' ')).toBe(0);
        expect(r.out).toContain(`Usage: keyward ${c.path.join(' ')}`);
        expect(r.out).toMatch(/Examples:\n {2}keyward /);
        expect(r.err).toBe('');
      }
    }
  });

  it('lists every command in the overview; groups have their own page', async () => {
    for (const args of [['help'], ['--help'], ['-h']]) {
      const r = await run(...args);
      expect(r.code).toBe(0);
      for (const c of COMMANDS) expect(r.out).toContain(c.path.join(' '));
    }
    const keys = await run('help', 'keys');
    expect(keys.out).toContain('keyward keys rotate <key-id> [--grace <N>h]');
    expect((await run('projects', '--help')).out).toContain('keyward projects channel <name> <channel-id>');
  });

  it('no command: overview on stderr, exit 2; unknown help topic: exit 2', async () => {
    const r = await run();
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toContain('Usage: keyward <command>');
    const bad = await run('help', 'frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('keyward: no help for "frobnicate": no such command. Run `keyward help`.\n');
  });
});

describe(`keyward audit, orgs, migrate, config (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let cli: (...args: string[]) => Promise<Run>;
  beforeEach(async () => {
    t = await freshDatabase();
    cli = cliFor(t);
  });
  afterEach(async () => t?.drop());

  it('audit shows events newest first, filtered by project, actor, time and limit', async () => {
    await cli('projects', 'create', 'alpha');
    await cli('projects', 'create', 'beta');
    await cli('keys', 'create', 'alpha', 'A');
    await cli('projects', 'add', 'beta', 'U0DEV0001', 'developer');

    const all = (await cli('audit', '--json')).json();
    expect(all.events.map((e: { action: string }) => e.action)).toEqual(['member.added', 'key.created', 'project.created', 'project.created']);
    expect(all.events[0]).toEqual({
      id: expect.stringMatching(/^evt_/), at: expect.any(String), actor: 'cli:alice', action: 'member.added', project: 'beta',
      projectId: expect.stringMatching(/^prj_/), targetType: 'user', targetId: 'U0DEV0001', details: { role: 'developer' },
    });
    const alpha = (await cli('audit', '--project', 'alpha', '--json')).json();
    expect(alpha.events.map((e: { action: string }) => e.action)).toEqual(['key.created', 'project.created']);
    expect((await cli('audit', '--limit', '1', '--json')).json().events).toHaveLength(1);
    expect((await cli('audit', '--actor', 'slack:U1', '--json')).json().events).toEqual([]);
    // The test clock started at START and ticks one second per reading.
    expect((await cli('audit', '--since', '2026-12-01', '--json')).json().events).toEqual([]);

    const human = await cli('audit', '--since', '7d');
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/^TIME\s+ACTOR\s+ACTION\s+PROJECT\s+TARGET\s+DETAILS$/m);
    expect(human.out).toMatch(/cli:alice\s+member\.added\s+beta\s+U0DEV0001\s+\{"role":"developer"\}/);
  });

  it('audit refuses bad filters before reading anything', async () => {
    for (const args of [['--since', 'soon'], ['--limit', '0'], ['--limit', 'all'], ['extra']]) {
      const r = await cli('audit', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    expect((await cli('audit', '--project', 'nope')).code).toBe(1);
  });

  it('orgs lists organisations; --org picks one, an unknown one is refused', async () => {
    await cli('projects', 'create', 'alpha');
    const org = await t.db.org.findFirstOrThrow();
    await t.db.org.update({ where: { id: org.id }, data: { slackTeamId: 'T0TEAM001', name: 'Acme' } });
    await t.db.org.create({ data: { id: 'org_second', slackTeamId: 'T0TEAM002', createdAt: START } });

    const orgs = (await cli('orgs', '--json')).json();
    expect(orgs.orgs).toEqual([
      { id: 'org_second', slackTeamId: 'T0TEAM002', name: null, projects: 0, createdAt: START.toISOString() },
      { id: org.id, slackTeamId: 'T0TEAM001', name: 'Acme', projects: 1, createdAt: expect.any(String) },
    ]); // oldest first: the second org was made at START, the first one by the CLI a tick later
    expect((await cli('orgs')).out).toMatch(/T0TEAM001\s+Acme\s+1/);

    const ambiguous = await cli('projects', 'list');
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.err).toMatch(/pass --org/);
    expect((await cli('projects', 'list', '--org', 'T0TEAM001', '--json')).json().projects).toHaveLength(1);
    expect((await cli('--org', 'org_second', 'projects', 'list', '--json')).json().projects).toHaveLength(0);
    const unknown = await cli('projects', 'list', '--org', 'T0NOPE');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/No organisation "T0NOPE".*keyward orgs/);
    expect(await t.db.org.count()).toBe(2);
  });

  it('migrate reports nothing to do on a migrated database', async () => {
    expect(await cli('migrate')).toMatchObject({ code: 0, out: 'Database is up to date; no migrations to apply.\n' });
    expect((await cli('migrate', '--json')).json()).toEqual({ applied: [] });
  });

  it('configuration errors name the variable, exit 78 and touch nothing', async () => {
    await cli('projects', 'create', 'alpha');
    const before = await snapshot(t);
    const short = await cliFor(t, { env: { KEYWARD_SECRET: 'short' } })('projects', 'create', 'beta');
    expect(short.code).toBe(78);
    expect(short.err).toContain('KEYWARD_SECRET: must be at least 32 characters');
    expect(short.err).not.toMatch(/\n\s+at /);
    const url = await cliFor({ url: 'mysql://x' })('keys', 'list');
    expect(url.code).toBe(78);
    expect(url.err).toContain('DATABASE_URL: must start with file: (SQLite) or postgresql://');
    expect(await snapshot(t)).toEqual(before);
  });

  it('reads .env from the working folder; the environment wins over it', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'kw-env-'));
    writeFileSync(path.join(cwd, '.env'), `DATABASE_URL=${t.url}\nKEYWARD_SECRET=${SECRET}\nKEYWARD_TIMEZONE=Mars/Olympus\n`);
    let err = '';
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, osUser: 'alice', cwd };
    expect(await runCli(['node', 'keyward', 'projects', 'list'], { ...io, env: {} })).toBe(78);
    expect(err).toContain('KEYWARD_TIMEZONE');
    expect(await runCli(['node', 'keyward', 'projects', 'create', 'from-env'], { ...io, env: { KEYWARD_TIMEZONE: 'UTC' } })).toBe(0);
    expect(await t.db.project.count({ where: { name: 'from-env' } })).toBe(1);
  });
});

describe('a fresh SQLite file', () => {
  it('migrate applies every migration and prints their names', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kw-mig-'));
    const cli = cliFor({ url: `file:${path.join(dir, 'new.db')}` });
    const r = await cli('migrate');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Applied \d+ migrations?:\n( {2}\d{14}_\w+\n)+$/);
    expect((await cli('migrate', '--json')).json()).toEqual({ applied: [] });
  });

  it('an unreachable database is one clear line, exit 1', async () => {
    const cli = cliFor({ url: 'postgresql://nobody:hunter2@127.0.0.1:1/none' });
    const r = await cli('projects', 'list');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^keyward: cannot open the database at postgresql:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
    expect(r.err).not.toContain('hunter2');
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
