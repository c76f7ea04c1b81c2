/**
 * What people outside a project or the org's admins must not see through Slack: org limits, the
 * access review's per-project status, and the review report (which goes to org admins by DM only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgres } from '../helpers/db.js';
import { createHarness, U, type Harness } from './harness.js';

const ORG_CHANNEL = 'CORGALERTS';

describe(`confinement in Slack (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create alpha', U.org);
    await h.ask('/project', `add alpha <@${U.admin}> admin`, U.org);
    await h.ask('/project', `add alpha <@${U.dev}> developer`, U.org);
    await h.ask('/project', 'create hidden', U.org);
    await h.ask('/project', `add hidden <@${U.dev2}> developer`, U.org);
    await h.ask('/keyward', `settings channel=<#${ORG_CHANNEL}|alerts>`, U.org);
    expect((await h.ask('/limits', 'set org hard=4321', U.org)).text).toContain('Saved');
  });
  afterAll(async () => h?.close());

  it('/limits org: only org admins see the org-wide limits and spend', async () => {
    for (const user of [U.outsider, U.admin, U.dev]) {
      const r = await h.ask('/limits', 'org', user);
      expect(r.text).toBe('Only organisation admins see the org-wide limits.');
      expect(JSON.stringify(r.body)).not.toContain('4,321');
    }
    expect(JSON.stringify((await h.ask('/limits', 'org', U.org)).body)).toContain('4,321');
  });

  it('/keyward review status: org admins see every project, project Admins their own, others nothing', async () => {
    expect((await h.ask('/keyward', 'review start', U.org)).text).toContain('Started access review');
    for (const user of [U.outsider, U.dev, U.dev2]) {
      const r = await h.ask('/keyward', 'review status', user);
      expect(r.text).toBe('Access review status is shown to org admins and to project Admins (for their own projects).');
      expect(JSON.stringify(r.body)).not.toMatch(/alpha|hidden/);
    }
    const admin = JSON.stringify((await h.ask('/keyward', 'review status', U.admin)).body);
    expect(admin).toContain('alpha');
    expect(admin).not.toContain('hidden');
    expect(admin).not.toContain(U.dev2); // hidden's member, not a reviewer of alpha
    const org = await h.ask('/keyward', 'review status', U.org);
    expect(JSON.stringify(org.body)).toMatch(/alpha[\s\S]*hidden/);
    expect(org.text).toMatch(/0 of 5 items decided/); // alpha: UORG, UADMIN, UDEV; hidden: UORG, UDEV2
  });

  it('the closing report and its CSV go to org admins by DM; the org channel gets one line without names', async () => {
    const from = h.calls.length;
    expect((await h.ask('/keyward', 'review close --unreviewed keep', U.org)).text).toContain('closed');
    await h.waitForCall('files.completeUploadExternal', from);
    const uploads = h.callsTo('files.completeUploadExternal', from);
    expect(uploads.map((c) => c.body.channel_id)).toEqual([`D${U.org}`]);
    const toChannel = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === ORG_CHANNEL);
    expect(String(toChannel.body.text)).toMatch(/^Access review `[^`]+` closed: 5 items reviewed; the report went to the org admins by DM\.$/);
    const channelPosts = h.callsTo('chat.postMessage', from).filter((c) => c.body.channel === ORG_CHANNEL);
    expect(channelPosts).toHaveLength(1);
    expect(JSON.stringify(channelPosts)).not.toMatch(/alpha|hidden|UADMIN|UDEV/);
  });
});
