import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextSlot, parseCron } from '../../src/domain/jobs.js';
import { fmtTime } from '../../src/domain/calendar.js';
import { usingPostgres } from '../helpers/db.js';
import { createHarness, U, type Harness } from './harness.js';

describe(`/keyward settings through Slack (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { KEYWARD_DIGEST_CRON: '30 8 * * 2' } });
    await h.ask('/project', 'create web', U.org);
    await h.ask('/project', `add web <@${U.admin}> admin`, U.org);
    await h.ask('/project', `add web <@${U.dev}> developer`, U.org);
    await h.ask('/project', 'channel web <#CWEB|web>', U.org);
  });
  afterAll(async () => h?.close());

  it('org admins see the default schedule with its next run, and set channel, digest cron and digest channel', async () => {
    const shown = await h.ask('/keyward', 'settings', U.org);
    const next = fmtTime(nextSlot(parseCron('30 8 * * 2'), new Date(), 'UTC'), 'UTC');
    expect(shown.text).toBe(`Org settings: alert channel none, weekly digest \`30 8 * * 2\` (default), next ${next}, digest channel per project.`);
    expect(JSON.stringify(shown.body.blocks)).toContain('*web* → <#CWEB>');

    // Unquoted cron words are taken up to the next name=value; Slack's smart quotes work too.
    const set = await h.ask('/keyward', 'settings channel=<#CORG|general> digest=0 17 * * FRI digest-channel=<#CDIG|digests>', U.org);
    const friday = fmtTime(nextSlot(parseCron('0 17 * * 5'), new Date(), 'UTC'), 'UTC');
    expect(set.text).toBe(`Saved. Org settings: alert channel <#CORG>, weekly digest \`0 17 * * FRI\` (this org), next ${friday}, digest channel <#CDIG>.`);
    const org = await h.t.db.org.findFirstOrThrow();
    expect([org.alertChannelId, org.digestCron, org.digestChannelId]).toEqual(['CORG', '0 17 * * FRI', 'CDIG']);
    expect((await h.ask('/keyward', 'settings digest=“off”', U.org)).text).toContain('weekly digest off');
    const audit = await h.t.db.auditEvent.findMany({ where: { action: 'org.settings_set' } });
    expect(audit.map((a) => a.actor)).toEqual([`slack:${U.org}`, `slack:${U.org}`]);
  });

  it('refuses a bad cron and non-admins, and leaves the settings alone', async () => {
    expect((await h.ask('/keyward', 'settings digest="0 9 * * 8"', U.org)).text).toContain('Cron weekday "8" is not valid');
    expect((await h.ask('/keyward', 'settings digest=0 9', U.org)).text).toContain('5 fields');
    expect((await h.ask('/keyward', 'settings', U.admin)).text).toContain('Only organisation admins');
    expect((await h.ask('/keyward', 'settings channel=#CX', U.admin)).text).toContain('Only organisation admins');
    expect((await h.t.db.org.findFirstOrThrow()).alertChannelId).toBe('CORG');
  });

  it('project Admins set their project digest channel; Developers may only look', async () => {
    const r = await h.ask('/keyward', 'settings web digest-channel=<#CWEBDIG|web-digest>', U.admin);
    expect(r.text).toBe('Saved. web: digest goes to <#CWEBDIG>; alerts to <#CWEB>.');
    expect((await h.ask('/keyward', 'settings web', U.dev)).text).toBe('web: digest goes to <#CWEBDIG>; alerts to <#CWEB>.');
    expect((await h.ask('/keyward', 'settings web digest-channel=default', U.dev)).text).toMatch(/Admin/);
    expect((await h.ask('/keyward', 'settings web digest-channel=default', U.admin)).text).toBe('Saved. web: digest goes to <#CDIG> (no digest channel of its own); alerts to <#CWEB>.');
    expect((await h.ask('/keyward', 'settings web color=red', U.admin)).text).toContain('Unknown project setting "color"');
  });
});
