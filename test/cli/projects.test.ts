import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { cliFor, snapshot, type Run } from './helpers.js';

describe(`keyward projects (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let cli: (...args: string[]) => Promise<Run>;
  beforeEach(async () => {
    t = await freshDatabase();
    cli = cliFor(t);
  });
  afterEach(async () => t?.drop());

  it('creates a project with a description, audited as cli:<os user>', async () => {
    const r = await cli('projects', 'create', 'support-bot', 'Customer', 'support', 'assistant');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('Created project support-bot');
    const p = await t.db.project.findFirstOrThrow({ where: { name: 'support-bot' } });
    expect(p.description).toBe('Customer support assistant');
    expect(p.createdBy).toBe('cli:alice');
    const events = await t.db.auditEvent.findMany();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'cli:alice', action: 'project.created', projectId: p.id });
  });

  it('--admin makes a Slack user (escaped form accepted) the first Admin', async () => {
    const r = await cli('projects', 'create', 'search', '--admin', '<@U0ADMIN1|ana>', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ project: { name: 'search', archived: false, alertChannel: null }, admin: 'U0ADMIN1' });
    const m = await t.db.membership.findMany();
    expect(m).toMatchObject([{ userId: 'U0ADMIN1', role: 'admin', addedBy: 'cli:alice' }]);
  });

  it('lists projects with counts, hides archived ones unless --all', async () => {
    await cli('projects', 'create', 'alpha');
    await cli('projects', 'create', 'beta', 'second');
    await cli('projects', 'add', 'alpha', 'U0DEV0001', 'developer');
    await cli('keys', 'create', 'alpha', 'App');
    await cli('projects', 'archive', 'beta');

    const human = await cli('projects', 'list');
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/^NAME\s+MEMBERS\s+KEYS\s+STATUS\s+DESCRIPTION$/m);
    expect(human.out).toMatch(/^alpha\s+1\s+1\s+active$/m);
    expect(human.out).not.toContain('beta');

    const all = (await cli('projects', 'list', '--all', '--json')).json();
    expect(all.projects.map((p: { name: string }) => p.name)).toEqual(['alpha', 'beta']);
    expect(all.projects[0]).toEqual({
      id: expect.stringMatching(/^prj_/), name: 'alpha', description: '', alertChannel: null, archived: false,
      archivedAt: null, createdBy: 'cli:alice', createdAt: expect.any(String), members: 1, activeKeys: 1,
    });
    expect(all.projects[1]).toMatchObject({ name: 'beta', archived: true, activeKeys: 0 });
  });

  it('shows a project with members, human and --json', async () => {
    await cli('projects', 'create', 'alpha', 'The first');
    await cli('projects', 'add', 'alpha', 'U0ADMIN1', 'admin');
    await cli('projects', 'add', 'alpha', 'U0VIEW01', 'viewer');
    const human = await cli('projects', 'show', 'ALPHA');
    expect(human.code).toBe(0);
    expect(human.out).toContain('The first');
    expect(human.out).toMatch(/^U0ADMIN1\s+Admin/m);
    expect(human.out).toMatch(/^U0VIEW01\s+Viewer/m);
    const j = (await cli('projects', 'show', 'alpha', '--json')).json();
    expect(j.project).toMatchObject({ name: 'alpha', description: 'The first', activeKeys: 0 });
    expect(j.project.members).toEqual([
      { userId: 'U0ADMIN1', role: 'admin', addedBy: 'cli:alice', addedAt: expect.any(String) },
      { userId: 'U0VIEW01', role: 'viewer', addedBy: 'cli:alice', addedAt: expect.any(String) },
    ]);
  });

  it('adds, re-roles and removes members; ids may be pasted as Slack mentions', async () => {
    await cli('projects', 'create', 'alpha');
    await cli('projects', 'add', 'alpha', 'U0ADMIN1', 'admin');
    expect((await cli('projects', 'add', 'alpha', '<@U0DEV0001>', 'Developer')).out).toContain('Added U0DEV0001 to alpha as Developer');
    const role = await cli('projects', 'role', 'alpha', '<@u0dev0001|bob>', 'viewer', '--json');
    expect(role.json()).toEqual({ project: 'alpha', userId: 'U0DEV0001', role: 'viewer', previous: 'developer', changed: true });
    expect((await cli('projects', 'role', 'alpha', 'U0DEV0001', 'viewer')).out).toContain('nothing changed');
    const removed = await cli('projects', 'remove', 'alpha', 'U0DEV0001', '--json');
    expect(removed.json()).toEqual({ project: 'alpha', userId: 'U0DEV0001', previous: 'viewer', revokedKeys: [], transferredKeys: [], transferredTo: null });
    expect(await t.db.membership.findMany({ select: { userId: true } })).toEqual([{ userId: 'U0ADMIN1' }]);
    const actions = (await t.db.auditEvent.findMany({ orderBy: { createdAt: 'asc' } })).map((e) => [e.actor, e.action]);
    expect(actions).toEqual([
      ['cli:alice', 'project.created'], ['cli:alice', 'member.added'], ['cli:alice', 'member.added'],
      ['cli:alice', 'member.role_changed'], ['cli:alice', 'member.removed'],
    ]);
  });

  it('remove revokes the member\'s active keys in the project by default, or --transfer-to hands them over, and says which', async () => {
    await cli('projects', 'create', 'alpha');
    for (const [u, r] of [['U0ADMIN1', 'admin'], ['U0DEV0001', 'developer'], ['U0DEV0002', 'developer'], ['U0VIEW001', 'viewer']]) {
      await cli('projects', 'add', 'alpha', u!, r!);
    }
    const one = JSON.parse((await cli('keys', 'create', 'alpha', 'One', '--owner', 'U0DEV0001', '--json')).out).key.id as string;
    const two = JSON.parse((await cli('keys', 'create', 'alpha', 'Two', '--owner', 'U0DEV0002', '--json')).out).key.id as string;
    const refused = await cli('projects', 'remove', 'alpha', 'U0DEV0002', '--transfer-to', 'U0VIEW001');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('only its Admins and Developers can own keys');
    expect((await t.db.apiKey.findUniqueOrThrow({ where: { id: two } })).ownerId).toBe('U0DEV0002');

    const revoked = await cli('projects', 'remove', 'alpha', 'U0DEV0001');
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain(`Revoked 1 active key: ${one}`);
    expect(await t.db.apiKey.findUniqueOrThrow({ where: { id: one } })).toMatchObject({ status: 'revoked', revokedBy: 'cli:alice' });
    expect(await t.db.keyChange.count({ where: { keyId: one } })).toBe(2);

    const moved = await cli('projects', 'remove', 'alpha', '<@U0DEV0002>', '--transfer-to', '<@U0ADMIN1|ana>', '--json');
    expect(moved.json()).toEqual({ project: 'alpha', userId: 'U0DEV0002', previous: 'developer', revokedKeys: [], transferredKeys: [two], transferredTo: 'U0ADMIN1' });
    expect(await t.db.apiKey.findUniqueOrThrow({ where: { id: two } })).toMatchObject({ status: 'active', ownerId: 'U0ADMIN1' });
  });

  it('sets the alert channel from an id or an escaped channel', async () => {
    await cli('projects', 'create', 'alpha');
    expect((await cli('projects', 'channel', 'alpha', '<#C0ALERTS1|alerts>')).code).toBe(0);
    expect((await t.db.project.findFirstOrThrow()).alertChannelId).toBe('C0ALERTS1');
    expect((await cli('projects', 'channel', 'alpha', 'C0OTHER01', '--json')).json()).toEqual({ project: 'alpha', alertChannel: 'C0OTHER01' });
  });

  it('archives a project and revokes its active keys', async () => {
    await cli('projects', 'create', 'alpha');
    await cli('keys', 'create', 'alpha', 'One');
    await cli('keys', 'create', 'alpha', 'Two');
    const r = await cli('projects', 'archive', 'alpha', '--json');
    expect(r.json()).toEqual({ project: 'alpha', archived: true, revokedKeys: 2 });
    const keys = await t.db.apiKey.findMany();
    expect(keys.map((k) => [k.status, k.revokedBy])).toEqual([['revoked', 'cli:alice'], ['revoked', 'cli:alice']]);
    const again = await cli('projects', 'archive', 'alpha');
    expect(again.code).toBe(1);
    expect(again.err).toBe('keyward: Project "alpha" is already archived.\n');
  });

  it('refusals by a rule exit 1 with one line and change nothing', async () => {
    await cli('projects', 'create', 'alpha');
    await cli('projects', 'add', 'alpha', 'U0ADMIN1', 'admin');
    const before = await snapshot(t);
    const cases: [string[], RegExp][] = [
      [['projects', 'create', 'alpha'], /already exists/],
      [['projects', 'show', 'nope'], /No project named "nope".*`keyward projects list`/],
      [['projects', 'add', 'alpha', 'U0ADMIN1', 'viewer'], /U0ADMIN1 is already an Admin of alpha.*`keyward projects role alpha U0ADMIN1 viewer`/],
      [['projects', 'remove', 'alpha', 'U0NOBODY'], /U0NOBODY is not a member of alpha/],
      [['projects', 'remove', 'alpha', 'U0ADMIN1'], /last Admin/],
      [['projects', 'role', 'alpha', 'U0ADMIN1', 'developer'], /last Admin/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).not.toMatch(/<@|\/project /);
    }
    expect(await snapshot(t)).toEqual(before);
  });
});
