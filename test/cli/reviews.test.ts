import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { cliFor, type Run } from './helpers.js';

describe(`keyward projects policy / approvals / review (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let t: TestDatabase;
  let cli: (...args: string[]) => Promise<Run>;
  beforeAll(async () => {
    t = await freshDatabase();
    cli = cliFor(t);
    await cli('projects', 'create', 'crm', '--admin', 'U0ADMIN1');
    await cli('projects', 'add', 'crm', 'U0DEV001', 'developer');
    await cli('keys', 'create', 'crm', 'Ops', '--owner', 'U0DEV001');
  });
  afterAll(async () => t?.drop());

  it('projects policy sets the approval policy (audited); bad values are usage errors', async () => {
    const r = await cli('projects', 'policy', 'crm', 'always');
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain('now always (was prod)');
    expect((await t.db.project.findFirstOrThrow()).approvalPolicy).toBe('always');
    expect(await t.db.auditEvent.count({ where: { action: 'project.policy_set', actor: 'cli:alice' } })).toBe(1);
    expect((await cli('projects', 'policy', 'crm', 'sometimes')).code).toBe(2);
  });

  it('approvals list shows pending requests', async () => {
    expect((await cli('approvals', 'list')).out).toContain('No pending key requests');
  });

  it('review start, status and close --unreviewed revoke (CSV printed, access revoked, audited)', async () => {
    // A database of its own, used by the CLI only until the end (see the other CLI tests).
    await t.drop();
    t = await freshDatabase();
    cli = cliFor(t);
    await cli('projects', 'create', 'crm', '--admin', 'U0ADMIN1');
    await cli('projects', 'add', 'crm', 'U0DEV001', 'developer');
    await cli('keys', 'create', 'crm', 'Ops', '--owner', 'U0DEV001');
    const started = await cli('review', 'start', '--due', '7d');
    expect(started.code).toBe(0);
    expect(started.out).toContain('no DMs were sent');
    const again = await cli('review', 'start');
    expect(again.err).toContain('still open');
    expect(again.code).toBe(1);
    const status = await cli('review', 'status', '--json');
    expect(status.err).toBe('');
    expect(status.json().progress).toMatchObject({ total: 3, decided: 0 });
    expect((await cli('review', 'close')).code).toBe(2);
    const closed = await cli('review', 'close', '--unreviewed', 'revoke');
    expect(closed.code).toBe(0);
    expect(closed.out).toContain('decided_at_close');
    expect((await t.db.apiKey.findFirstOrThrow()).status).toBe('revoked');
    expect(await t.db.membership.count({ where: { userId: 'U0DEV001' } })).toBe(0);
    expect(await t.db.auditEvent.count({ where: { action: 'review.closed' } })).toBe(1);
  });
});
