import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecret, type TotpRecord } from '../../src/domain/totp.js';
import { createHarness, U, viewSubmission, type Harness } from './harness.js';

const code = async (h: Harness, user: string, stepsAhead = 0) => {
  const row = (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: user } })) as TotpRecord;
  return generate({ secret: openSecret(h.services.deps.secret, row), epoch: Math.floor(h.services.deps.now!().getTime() / 1000) + stepsAhead * 30 });
};
const wrongOf = (c: string) => String((Number(c) + 1) % 1_000_000).padStart(6, '0');

async function enroll(h: Harness, user: string) {
  const from = h.calls.length;
  const r = await h.ask('/keyward', '2fa enroll', user);
  expect(r.text).toContain('DM');
  return from;
}

describe('/keyward 2fa (optional 2FA)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create gamma', U.org);
    await h.ask('/project', `add gamma <@${U.admin}> admin`, U.org);
    await h.ask('/project', `add gamma <@${U.dev}> developer`, U.org);
  });
  afterAll(async () => h?.close());

  it('enroll DMs the secret and uploads the QR PNG to that DM; verify turns it on; the secret never reaches the DB in clear', async () => {
    const from = await enroll(h, U.admin);
    const dm = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.admin}`);
    const row = (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.admin } })) as TotpRecord;
    const secret = openSecret(h.services.deps.secret, row);
    expect(JSON.stringify(dm.body)).toContain(secret.replace(/(.{4})(?=.)/g, '$1 '));
    expect(row.sealedSecret).not.toContain(secret);
    const url = await h.waitForCall('files.getUploadURLExternal', from);
    expect(url.body.filename).toBe('keyward-2fa.png');
    const done = await h.waitForCall('files.completeUploadExternal', from);
    expect(String(done.body.channel_id)).toBe(`D${U.admin}`);
    expect(h.responses.some((r) => r.url.endsWith('/upload/keyward-2fa.png'))).toBe(true);
    expect(row.status).toBe('pending');
    const bad = await h.ask('/keyward', `2fa verify ${wrongOf(await code(h, U.admin))}`, U.admin);
    expect(bad.text).toContain('wrong');
    const ok = await h.ask('/keyward', `2fa verify ${await code(h, U.admin)}`, U.admin);
    expect(ok.text).toContain('Two-factor is on');
    const audit = await h.t.db.auditEvent.findMany({ where: { action: { startsWith: 'totp.' } } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['totp.enroll_started', 'totp.failed', 'totp.enrolled']));
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('step-up: an enrolled Admin changing a role gets a code modal; a wrong code changes nothing, a fresh one does', async () => {
    h.advance(31_000);
    const { triggerId } = await h.command('/project', `role gamma <@${U.dev}> viewer`, U.admin);
    const open = await h.waitForCall('views.open', 0, (c) => c.body.trigger_id === triggerId);
    const view = open.body.view as Record<string, unknown>;
    expect(JSON.stringify(view)).toContain('"totp"');
    const good = await code(h, U.admin);
    const bad = await h.interact(viewSubmission(U.admin, view, 'VSTEP1', { totp: { value: { type: 'plain_text_input', value: wrongOf(good) } } }));
    expect(bad.text).toContain('errors');
    const member = () => h.t.db.membership.findFirstOrThrow({ where: { userId: U.dev } });
    expect((await member()).role).toBe('developer');
    await h.interact(viewSubmission(U.admin, view, 'VSTEP2', { totp: { value: { type: 'plain_text_input', value: good } } }));
    await expect.poll(async () => (await member()).role).toBe('viewer');
    // The same code again is a replay.
    const again = await h.interact(viewSubmission(U.admin, view, 'VSTEP3', { totp: { value: { type: 'plain_text_input', value: good } } }));
    expect(again.text).toContain('already used');
  });

  it('users without 2FA act directly; disable needs a code; an org admin reset tells the user', async () => {
    const direct = await h.ask('/project', `role gamma <@${U.dev}> developer`, U.org);
    expect(direct.text).toContain('is now Developer');
    const noCode = await h.ask('/keyward', '2fa disable', U.admin);
    expect(noCode.text).toContain('code');
    const from = h.calls.length;
    const reset = await h.ask('/keyward', `2fa reset <@${U.admin}>`, U.org);
    expect(reset.text).toContain('reset');
    const told = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.admin}`);
    expect(JSON.stringify(told.body)).toContain('reset your keyward two-factor');
    expect(await h.t.db.totpEnrollment.count({ where: { userId: U.admin } })).toBe(0);
    const notAdmin = await h.ask('/keyward', `2fa reset <@${U.org}>`, U.dev);
    expect(notAdmin.text).toContain('Only org admins');
  });
});

describe('KEYWARD_REQUIRE_2FA=true', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { KEYWARD_REQUIRE_2FA: 'true' } });
    await h.ask('/project', 'create delta', U.org);
  });
  afterAll(async () => h?.close());

  it('unenrolled users are told to enroll first; nothing is archived', async () => {
    const r = await h.ask('/project', 'archive delta', U.org);
    expect(r.text).toContain('/keyward 2fa enroll');
    expect((await h.t.db.project.findFirstOrThrow({ where: { name: 'delta' } })).archivedAt).toBeNull();
  });

  it('after enrolling, archiving asks for a code and then archives', async () => {
    await enroll(h, U.org);
    await h.ask('/keyward', `2fa verify ${await code(h, U.org)}`, U.org);
    h.advance(31_000);
    const { triggerId, responseUrl } = await h.command('/project', 'archive delta', U.org);
    const open = await h.waitForCall('views.open', 0, (c) => c.body.trigger_id === triggerId);
    const view = open.body.view as Record<string, unknown>;
    const meta = JSON.parse(String(view.private_metadata)) as { r: string };
    expect(meta.r).toBe(responseUrl);
    await h.interact(viewSubmission(U.org, view, 'VARCH', { totp: { value: { type: 'plain_text_input', value: await code(h, U.org) } } }));
    expect(String((await h.waitForResponse(responseUrl)).text)).toContain('Archived');
    expect((await h.t.db.project.findFirstOrThrow({ where: { name: 'delta' } })).archivedAt).not.toBeNull();
  });

  it('changing limits asks for a code; a wrong one changes nothing', async () => {
    h.advance(31_000);
    const { triggerId, responseUrl } = await h.command('/limits', 'set org hard=100', U.org);
    const open = await h.waitForCall('views.open', 0, (c) => c.body.trigger_id === triggerId);
    const view = open.body.view as Record<string, unknown>;
    const good = await code(h, U.org);
    const bad = await h.interact(viewSubmission(U.org, view, 'VLIM1', { totp: { value: { type: 'plain_text_input', value: wrongOf(good) } } }));
    expect(bad.text).toContain('errors');
    expect(await h.t.db.limit.count()).toBe(0);
    await h.interact(viewSubmission(U.org, view, 'VLIM2', { totp: { value: { type: 'plain_text_input', value: good } } }));
    expect(String((await h.waitForResponse(responseUrl)).text)).toContain('Saved');
    expect(await h.t.db.limit.count()).toBe(1);
  });
});
