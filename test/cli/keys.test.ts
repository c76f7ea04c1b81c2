import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/domain/keys.js';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { cliFor, SECRET, snapshot, START, tickingClock, type Run } from './helpers.js';

const SECRET_RE = /sk-kw-[0-9A-Za-z]{32,}/g;
const DAY = 86_400_000;

/** Every text value in the database, to prove a secret is stored nowhere in plain text. */
async function dumpDatabase(t: TestDatabase): Promise<string> {
  const { db } = t;
  const rows = await Promise.all([
    db.org.findMany(), db.project.findMany(), db.membership.findMany(), db.apiKey.findMany(), db.auditEvent.findMany(),
    db.keyChange.findMany(), db.idempotencyRecord.findMany(), db.pendingSecret.findMany(),
  ]);
  let text = JSON.stringify(rows);
  if (t.file) text += readFileSync(t.file, 'latin1') + readFileSync(`${t.file}-wal`, 'latin1');
  return text;
}

describe(`keyward keys (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let cli: (...args: string[]) => Promise<Run>;
  beforeEach(async () => {
    t = await freshDatabase();
    cli = cliFor(t);
    expect((await cli('projects', 'create', 'alpha')).code).toBe(0);
  });
  afterEach(async () => t?.drop());

  it('creates a key with every flag and prints the secret exactly once, stored only as its HMAC', async () => {
    const r = await cli(
      'keys', 'create', 'alpha', 'Production', 'App', '--scope', 'full', '--env=prod', '--expires', '30d', '--rpm', '60', '--owner', '<@U0OWNER1|ana>',
    );
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const secrets = r.out.match(SECRET_RE) ?? [];
    expect(secrets).toHaveLength(1);
    expect(r.out).toContain('shown only now and cannot be shown again');
    const secret = secrets[0]!;
    const key = await t.db.apiKey.findFirstOrThrow();
    expect(r.out).toContain(key.id);
    expect(key).toMatchObject({
      name: 'Production App', scope: 'full', environment: 'prod', rpm: 60, ownerId: 'U0OWNER1', createdBy: 'cli:alice',
      secretHash: hashSecret(SECRET, secret), hint: `sk-kw-…${secret.slice(-4)}`,
    });
    expect(key.expiresAt!.getTime() - key.createdAt.getTime()).toBe(30 * DAY);
    expect(await dumpDatabase(t)).not.toContain(secret);
    const audit = await t.db.auditEvent.findFirstOrThrow({ where: { action: 'key.created' } });
    expect(audit.actor).toBe('cli:alice');
    expect(audit.details).not.toContain(secret);
  });

  it('defaults: inference, dev, no expiry, owned by cli:<os user>; --json carries the secret as a field', async () => {
    const r = await cli('keys', 'create', 'alpha', 'Local Dev', '--json');
    expect(r.code).toBe(0);
    const j = r.json();
    expect(Object.keys(j).sort()).toEqual(['key', 'note', 'secret']);
    expect(j.secret).toMatch(/^sk-kw-[0-9A-Za-z]{40}$/);
    expect(r.out.match(SECRET_RE)).toHaveLength(1);
    expect(j.key).toEqual({
      id: expect.stringMatching(/^key_/), name: 'Local Dev', project: 'alpha', projectId: expect.stringMatching(/^prj_/),
      scope: 'inference', environment: 'dev', owner: 'cli:alice', status: 'active', hint: `sk-kw-…${j.secret.slice(-4)}`,
      rpm: null, createdAt: expect.any(String), expiresAt: null, lastUsedAt: null, revokedAt: null, revokedBy: null,
      revokeReason: null, rotatedAt: null, graceEndsAt: null, previousHint: null,
    });
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { id: j.key.id } });
    expect(row.secretHash).toBe(hashSecret(SECRET, j.secret));
    expect(r.out).not.toContain(row.secretHash);
  });

  it('without KEYWARD_SECRET hashes with the generated data-folder secret (as the server does) and says so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kw-secret-'));
    const r = await cliFor(t, { env: { KEYWARD_SECRET: '', DATA_DIR: dir } })('keys', 'create', 'alpha', 'Gen');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^note: KEYWARD_SECRET is not set; .*The server must use the same one\.\n$/);
    const secret = r.out.match(SECRET_RE)![0];
    const generated = readFileSync(path.join(dir, 'keyward.secret'), 'utf8').trim();
    expect((await t.db.apiKey.findFirstOrThrow({ where: { name: 'Gen' } })).secretHash).toBe(hashSecret(generated, secret));
  });

  it('lists active keys, by project, with --all including revoked ones', async () => {
    await cli('projects', 'create', 'beta');
    const a = (await cli('keys', 'create', 'alpha', 'A', '--json')).json().key.id;
    const b = (await cli('keys', 'create', 'beta', 'B', '--json')).json().key.id;
    await cli('keys', 'revoke', b);

    const human = await cli('keys', 'list');
    expect(human.code).toBe(0);
    expect(human.out).toMatch(new RegExp(`^${a}\\s+alpha\\s+A\\s+inference\\s+dev\\s+active\\s+cli:alice\\s+sk-kw-…`, 'm'));
    expect(human.out).not.toContain(b);
    expect(human.out).not.toMatch(SECRET_RE);

    expect((await cli('keys', 'list', 'beta', '--json')).json()).toEqual({ keys: [] });
    expect((await cli('keys', 'list', 'beta')).out).toContain('No active keys in beta');
    const all = (await cli('keys', 'list', '--all', '--json')).json();
    expect(all.keys.map((k: { id: string; status: string }) => [k.id, k.status]).sort()).toEqual([[a, 'active'], [b, 'revoked']].sort());
    expect(JSON.stringify(all)).not.toMatch(/secretHash|[0-9a-f]{64}/);
  });

  it('shows a key, and reports an active key past its expiry as expired', async () => {
    const created = (await cli('keys', 'create', 'alpha', 'Short', '--expires', '1d', '--json')).json();
    const show = await cli('keys', 'show', created.key.id);
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/^name:\s+Short$/m);
    expect(show.out).toMatch(/^status:\s+active$/m);
    expect(show.out).toContain(created.key.hint);
    expect(show.out).not.toContain(created.secret);

    const later = cliFor(t, { now: tickingClock(new Date(START.getTime() + 2 * DAY)) });
    const future = (await later('keys', 'show', created.key.id, '--json')).json();
    expect(future.key).toMatchObject({ id: created.key.id, status: 'expired' });
    expect((await later('keys', 'show', created.key.id)).out).toMatch(/^status:\s+expired$/m);
    expect((await later('keys', 'show', 'key_doesnotexist1')).err).toMatch(/No key key_doesnotexist1/);
  });

  it('revokes with a reason; a second revoke is refused', async () => {
    const id = (await cli('keys', 'create', 'alpha', 'A', '--json')).json().key.id;
    const r = await cli('keys', 'revoke', id, '--reason', 'leaked in a log', '--json');
    expect(r.code).toBe(0);
    expect(r.json().key).toMatchObject({ id, status: 'revoked', revokedBy: 'cli:alice', revokeReason: 'leaked in a log' });
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'revoked', revokeReason: 'leaked in a log' });
    const audit = await t.db.auditEvent.findFirstOrThrow({ where: { action: 'key.revoked' } });
    expect(audit).toMatchObject({ actor: 'cli:alice', targetId: id });
    const again = await cli('keys', 'revoke', id);
    expect(again).toMatchObject({ code: 1, out: '' });
    expect(again.err).toMatch(/already revoked/);
  });

  it('rotates: prints the new secret once, keeps the old hash for the grace period', async () => {
    const first = (await cli('keys', 'create', 'alpha', 'A', '--json')).json();
    const r = await cli('keys', 'rotate', first.key.id, '--grace', '2h');
    expect(r.code).toBe(0);
    const secrets = r.out.match(SECRET_RE) ?? [];
    expect(secrets).toHaveLength(1);
    expect(secrets[0]).not.toBe(first.secret);
    expect(r.out).toContain(`previous secret ${first.key.hint} works until`);
    const row = await t.db.apiKey.findUniqueOrThrow({ where: { id: first.key.id } });
    expect(row.secretHash).toBe(hashSecret(SECRET, secrets[0]!));
    expect(row.prevSecretHash).toBe(hashSecret(SECRET, first.secret));
    expect(row.graceEndsAt!.getTime() - row.rotatedAt!.getTime()).toBe(2 * 3_600_000);
    expect(await dumpDatabase(t)).not.toContain(secrets[0]!);
    expect((await cli('keys', 'show', first.key.id)).out).toMatch(new RegExp(`^previous secret: ${first.key.hint} works until`, 'm'));
    const later = cliFor(t, { now: tickingClock(new Date(START.getTime() + 3 * 3_600_000)) });
    expect((await later('keys', 'show', first.key.id)).out).toMatch(new RegExp(`^previous secret: ${first.key.hint} stopped`, 'm'));

    const now = await cli('keys', 'rotate', first.key.id, '--grace', '0h', '--json');
    const j = now.json();
    expect(j.secret).toMatch(/^sk-kw-/);
    expect(j.key).toMatchObject({ id: first.key.id, graceEndsAt: null, previousHint: null });
    expect(now.out.match(SECRET_RE)).toHaveLength(1);
  });

  it('bad input exits 2 with one line on stderr and changes nothing', async () => {
    const id = (await cli('keys', 'create', 'alpha', 'A', '--json')).json().key.id;
    const before = await snapshot(t);
    const cases: [string[], RegExp][] = [
      [['keys', 'create', 'alpha'], /keys create needs a project and a key name/],
      [['keys', 'create', 'alpha', 'B', '--scope', 'admin'], /Unknown scope "admin"/],
      [['keys', 'create', 'alpha', 'B', '--env', 'qa'], /Unknown environment "qa"/],
      [['keys', 'create', 'alpha', 'B', '--expires', '30'], /--expires takes a number of days/],
      [['keys', 'create', 'alpha', 'B', '--expires', '0d'], /--expires takes a number of days/],
      [['keys', 'create', 'alpha', 'B', '--rpm', 'fast'], /--rpm takes a whole number/],
      [['keys', 'create', 'alpha', 'B', '--rpm', '0'], /--rpm takes a whole number/],
      [['keys', 'create', 'alpha', 'B', '--owner', 'bob'], /not a Slack user id/],
      [['keys', 'create', 'alpha', 'B', '--scope'], /--scope needs a value/],
      [['keys', 'create', 'alpha', 'B', '--scope', 'full', '--scope', 'full'], /given twice/],
      [['keys', 'create', 'alpha', 'B', '--grace', '2h'], /keys create does not take --grace/],
      [['keys', 'create', 'alpha', 'x'.repeat(5000)], /at most 64 characters/],
      [['keys', 'create', 'alpha', 'bad"quote'], /letters, digits, spaces/],
      [['keys', 'create', 'Alpha Beta', 'B'], /not a valid project name/],
      [['keys', 'rotate', id, '--grace', '1y'], /--grace takes hours/],
      [['keys', 'rotate', id, '--grace', '800h'], /at most 30 days/],
      [['keys', 'revoke', 'sk-kw-notakeyid'], /is not a key id/],
      [['keys', 'revoke', id, 'extra'], /unexpected argument "extra"/],
      [['keys', 'show'], /keys show needs a key id/],
      [['keys', 'list', 'alpha', '--bogus'], /unknown option --bogus/],
      [['keys', 'delete', id], /unknown command "keys delete"/],
      [['keys'], /keys needs a command: create, list, show, revoke, rotate/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ').slice(0, 80)).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('refusals exit 1 and change nothing: unknown project or key, duplicate name, archived project', async () => {
    await cli('keys', 'create', 'alpha', 'A');
    await cli('projects', 'create', 'old');
    await cli('projects', 'archive', 'old');
    const before = await snapshot(t);
    const cases: [string[], RegExp][] = [
      [['keys', 'create', 'nope', 'A'], /No project named "nope"/],
      [['keys', 'create', 'alpha', 'A'], /already has an active key named "A"/],
      [['keys', 'create', 'old', 'A'], /archived/],
      [['keys', 'revoke', 'key_0000000000000000'], /No key key_0000000000000000.*`keyward keys list`/],
      [['keys', 'rotate', 'key_0000000000000000'], /No key/],
      [['keys', 'list', 'nope'], /No project named "nope"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    expect(await snapshot(t)).toEqual(before);
  });
});
