import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { cliFor, type Run } from './helpers.js';

let t: TestDatabase;
let cli: (...args: string[]) => Promise<Run>;
beforeAll(async () => {
  t = await freshDatabase();
  cli = cliFor(t, { env: { KEYWARD_TIMEZONE: 'Europe/Berlin', KEYWARD_DIGEST_CRON: '0 9 * * 1' } });
  expect((await cli('projects', 'create', 'web')).code).toBe(0);
});
afterAll(async () => t?.drop());

describe('keyward settings', () => {
  it('shows the default digest schedule with its next run in KEYWARD_TIMEZONE, and sets org settings', async () => {
    const shown = await cli('settings', 'show', '--json');
    expect(shown.code).toBe(0);
    const s = shown.json().settings;
    expect([s.digestCron, s.digestSource, s.timezone, s.alertChannelId]).toEqual(['0 9 * * 1', 'default', 'Europe/Berlin', null]);
    // Mondays 09:00 Berlin is 08:00 UTC in winter, 07:00 in summer.
    expect(new Date(s.nextDigestAt).getUTCDay()).toBe(1);
    expect([7, 8]).toContain(new Date(s.nextDigestAt).getUTCHours());

    const set = await cli('settings', 'set', 'channel=C0ORG', 'digest=30 16 * * FRI', 'digest-channel=C0DIG');
    expect(set.code).toBe(0);
    expect(set.out).toContain('weekly digest   30 16 * * FRI (this org)');
    expect(set.out).toMatch(/next digest {5}\d{4}-\d\d-\d\d 16:30 \S+ \(Europe\/Berlin\)/);
    expect(set.out).toContain('digest → C0DIG');
    const org = await t.db.org.findFirstOrThrow();
    expect([org.alertChannelId, org.digestCron, org.digestChannelId]).toEqual(['C0ORG', '30 16 * * FRI', 'C0DIG']);
    expect(await t.db.auditEvent.count({ where: { action: 'org.settings_set', actor: { startsWith: 'cli:' } } })).toBe(1);
  });

  it('sets a project digest channel, and refuses a bad cron as a usage error', async () => {
    const p = await cli('settings', 'set', 'web', 'digest-channel=C0WEB', '--json');
    expect(p.json().project).toEqual({ name: 'web', digestChannelId: 'C0WEB', alertChannelId: null, digestTo: 'C0WEB' });
    const bad = await cli('settings', 'set', 'digest=61 9 * * 1');
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('Cron minute "61" is not valid')]);
    expect((await t.db.org.findFirstOrThrow()).digestCron).toBe('30 16 * * FRI');
    const off = await cli('settings', 'set', 'digest=off');
    expect(off.out).toContain('weekly digest   off');
  });
});
