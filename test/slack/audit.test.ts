import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, U, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  await h.ask('/project', 'create aud', U.org);
  await h.ask('/project', 'create other', U.org);
  await h.ask('/project', `add aud <@${U.admin}> admin`, U.org);
  await h.ask('/project', `add aud <@${U.dev}> developer`, U.org);
});
afterAll(async () => h?.close());

describe('/keyward audit', () => {
  it('org admins see the latest events, readable; filters by project and actor', async () => {
    const all = await h.ask('/keyward', 'audit', U.org);
    const body = JSON.stringify(all.body);
    expect(body).toContain('project.created');
    expect(body).toContain('member.added');
    const byProject = JSON.stringify((await h.ask('/keyward', 'audit other --since 7d', U.org)).body);
    expect(byProject).toContain('project.created');
    expect(byProject).not.toContain('member.added');
    const byActor = await h.ask('/keyward', `audit --actor <@${U.dev}>`, U.org);
    expect(byActor.text).toContain('No audit events');
  });

  it('project Admins see their project only; Developers and outsiders are refused', async () => {
    expect(JSON.stringify((await h.ask('/keyward', 'audit aud', U.admin)).body)).toContain('member.added');
    expect((await h.ask('/keyward', 'audit', U.admin)).text).toContain('Only org admins');
    expect((await h.ask('/keyward', 'audit aud', U.dev)).text).toContain('permission');
    expect((await h.ask('/keyward', 'audit aud --since soon', U.org)).text).toContain('--since');
  });

  it('--csv uploads a CSV of the events to the asker\'s DM', async () => {
    const from = h.calls.length;
    const r = await h.ask('/keyward', 'audit aud --csv', U.org);
    expect(r.text).toContain('CSV');
    const url = await h.waitForCall('files.getUploadURLExternal', from);
    expect(url.body.filename).toBe('keyward-audit.csv');
    const done = await h.waitForCall('files.completeUploadExternal', from);
    expect(done.body.channel_id).toBe(`D${U.org}`);
    const csv = h.responses.find((x) => x.url.endsWith('/upload/keyward-audit.csv'))!.raw;
    expect(csv.split('\r\n')[0]).toBe('id,time,actor,action,project,target_type,target_id,details');
    expect(csv).toContain('member.added');
  });
});
