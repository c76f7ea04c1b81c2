import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openSecret, type TotpRecord } from '../../src/domain/totp.js';
import { createJobDeps } from '../../src/jobs/index.js';
import { runRevealExpiry } from '../../src/jobs/expiry.js';
import { createHarness, U, viewSubmission, waitFor, type Harness } from './harness.js';

const code = async (h: Harness, user: string, stepsAhead = 0) => {
  const row = (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: user } })) as TotpRecord;
  return generate({ secret: openSecret(h.services.deps.secret, row), epoch: Math.floor(h.services.deps.now!().getTime() / 1000) + stepsAhead * 30 });
};
const wrongOf = (c: string) => String((Number(c) + 1) % 1_000_000).padStart(6, '0');

async function enroll(h: Harness, user: string) {
  const from = h.calls.length;
  const r = await h.ask('/keyward', '2fa enroll', user);
  expect(r.text).toContain('window');
  return from;
}

const secretOf = async (h: Harness, user: string) =>
  openSecret(h.services.deps.secret, (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: user } })) as TotpRecord);
const grouped = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ');
/** Every Slack call that carries the secret, in either form (raw, grouped). */
const carrying = (h: Harness, secret: string, from = 0) =>
  h.calls.slice(from).filter((c) => c.raw.includes(secret) || c.raw.includes(encodeURIComponent(grouped(secret))) || JSON.stringify(c.body).includes(grouped(secret)));
const codeField = (value: string) => ({ totp: { value: { type: 'plain_text_input', value } } });

/** Starts enrollment and returns the modal as finally shown (with the QR image) and the uploaded file. */
async function enrollInModal(h: Harness, user: string) {
  const from = h.calls.length;
  const { triggerId } = await h.command('/keyward', '2fa enroll', user);
  const open = await h.waitForCall('views.open', from, (c) => c.body.trigger_id === triggerId);
  const update = await h.waitForCall('views.update', from);
  const upload = await h.waitForCall('files.getUploadURLExternal', from);
  const fileId = h.calls.slice(from).find((c) => c.method === 'files.completeUploadExternal')!.body;
  return { from, open, update, upload, fileId, view: update.body.view as Record<string, unknown> };
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

  it('enroll shows the secret and the QR only in a modal; no message carries it; the QR file is shared nowhere and deleted on verify', async () => {
    h.handlers.set('files.delete', () => ({ ok: true }));
    const { from, open, update, upload, view } = await enrollInModal(h, U.admin);
    const secret = await secretOf(h, U.admin);
    const row = await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.admin } });
    expect(row.sealedSecret).not.toContain(secret);
    expect(JSON.stringify(open.body.view)).toContain(grouped(secret));
    expect(upload.body.filename).toBe('keyward-2fa.png');
    const complete = await h.waitForCall('files.completeUploadExternal', from);
    expect(complete.body.channel_id).toBeUndefined();
    expect(complete.body.channels).toBeUndefined();
    const fileId = JSON.parse(String(complete.body.files))[0].id as string;
    expect(row.qrFileId).toBe(fileId);
    expect((view.blocks as Record<string, unknown>[]).find((b) => b.type === 'image')).toMatchObject({ slack_file: { id: fileId } });
    // Only the two views carry the secret: no chat.postMessage, postEphemeral, response_url or upload comment.
    expect(carrying(h, secret, from).map((c) => c.method).sort()).toEqual(['views.open', 'views.update']);
    expect(h.responses.some((r) => r.raw.includes(secret) || r.raw.includes(grouped(secret)))).toBe(false);
    expect(h.callsTo('chat.postMessage', from)).toEqual([]);
    const bad = await h.ask('/keyward', `2fa verify ${wrongOf(await code(h, U.admin))}`, U.admin);
    expect(bad.text).toContain('wrong');
    expect(h.callsTo('files.delete', from)).toEqual([]);
    const ok = await h.ask('/keyward', `2fa verify ${await code(h, U.admin)}`, U.admin);
    expect(ok.text).toContain('Two-factor is on');
    expect(h.callsTo('files.delete', from).map((c) => c.body.file)).toEqual([fileId]);
    expect((await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.admin } })).qrFileId).toBeNull();
    const audit = await h.t.db.auditEvent.findMany({ where: { action: { startsWith: 'totp.' } } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['totp.enroll_started', 'totp.failed', 'totp.enrolled']));
    expect(JSON.stringify(audit)).not.toContain(secret);
    expect(h.logs.join('')).not.toContain(secret);
  });

  it('the first code goes in the modal: wrong → a field error and nothing on; right → on, and the QR file is deleted', async () => {
    h.handlers.set('files.delete', () => ({ ok: true }));
    const { from, view } = await enrollInModal(h, U.viewer);
    const fileId = (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.viewer } })).qrFileId;
    expect(fileId).toBeTruthy();
    const good = await code(h, U.viewer);
    const bad = await h.interact(viewSubmission(U.viewer, view, 'VENR1', codeField(wrongOf(good))));
    expect(JSON.parse(bad.text)).toMatchObject({ response_action: 'errors', errors: { totp: expect.stringContaining('wrong') } });
    expect((await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.viewer } })).status).toBe('pending');
    expect(h.callsTo('files.delete', from)).toEqual([]);
    const ok = await h.interact(viewSubmission(U.viewer, view, 'VENR2', codeField(good)));
    expect(JSON.parse(ok.text)).toMatchObject({ response_action: 'update' });
    expect(ok.text).toContain('Two-factor is on');
    expect((await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.viewer } })).status).toBe('active');
    await h.waitForCall('files.delete', from);
    expect(h.callsTo('files.delete', from).map((c) => c.body.file)).toEqual([fileId]);
  });

  it('closing the modal deletes the QR file; a restart deletes the old one; an unfinished one is deleted by the reveal job', async () => {
    h.handlers.set('files.delete', () => ({ ok: true }));
    const first = await enrollInModal(h, U.dev2);
    const fileOf = async () => (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.dev2 } })).qrFileId;
    const f1 = await fileOf();
    await h.interact({ type: 'view_closed', team: { id: 'T0TEST' }, user: { id: U.dev2, team_id: 'T0TEST' }, api_app_id: 'A0KEYWARD', view: { ...first.view, id: 'VCLOSE', team_id: 'T0TEST' }, is_cleared: false });
    await h.waitForCall('files.delete', first.from);
    expect(h.callsTo('files.delete', first.from).map((c) => c.body.file)).toEqual([f1]);
    expect(await fileOf()).toBeNull();
    // The pending enrollment stays: `/keyward 2fa verify` can still finish it.
    expect((await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.dev2 } })).status).toBe('pending');

    const second = await enrollInModal(h, U.dev2);
    const f2 = await fileOf();
    const third = await enrollInModal(h, U.dev2);
    expect(h.callsTo('files.delete', second.from).map((c) => c.body.file)).toEqual([f2]);
    const f3 = await fileOf();
    expect(f3).not.toBe(f2);
    // Nobody closes the third modal (the process could have stopped): the reveal job removes it after 15 minutes.
    const jobs = createJobDeps({ config: loadConfig({ NODE_ENV: 'test', SLACK_BOT_TOKEN: 'xoxb-test-token', KEYWARD_SECRET: 'x'.repeat(32), DATABASE_URL: h.t.url }, { generateSecret: false }), services: h.services, slackClient: h.slack.client });
    expect((await runRevealExpiry(h.services.deps.now!(), jobs)).lines.join()).not.toContain('two-factor');
    h.advance(15 * 60_000 + 1_000);
    expect((await runRevealExpiry(h.services.deps.now!(), jobs)).lines.join()).toContain('deleted 1 two-factor QR');
    expect(h.callsTo('files.delete', third.from).map((c) => c.body.file)).toEqual([f2, f3]);
    expect(await fileOf()).toBeNull();
  });

  it('repeated lockouts: the second in a row and every later one DM the org admins, once each', async () => {
    h.handlers.set('files.delete', () => ({ ok: true }));
    await enrollInModal(h, U.dev);
    await h.ask('/keyward', `2fa verify ${await code(h, U.dev)}`, U.dev);
    const toAdmins = (from: number) => h.callsTo('chat.postMessage', from).filter((c) => c.body.channel === `D${U.org}` && String(c.body.text).includes(`<@${U.dev}>`));
    const lockOnce = async () => {
      h.advance(31_000);
      const wrong = wrongOf(await code(h, U.dev));
      let last = '';
      for (let i = 0; i < 5; i++) last = (await h.ask('/keyward', `2fa disable ${wrong}`, U.dev)).text;
      expect(last).toContain('locked for');
      return last;
    };
    const from = h.calls.length;
    expect(await lockOnce()).toContain('15 more minutes');
    await h.idle();
    expect(toAdmins(from)).toEqual([]);
    h.advance(15 * 60_000);
    expect(await lockOnce()).toContain('30 more minutes');
    await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.org}`);
    expect(toAdmins(from)).toHaveLength(1);
    expect(String(toAdmins(from)[0]!.body.text)).toContain('2nd time in a row');
    h.advance(30 * 60_000);
    expect(await lockOnce()).toContain('60 more minutes');
    await waitFor(() => toAdmins(from).length === 2, 'the third lockout notice');
    expect(String(toAdmins(from)[1]!.body.text)).toContain('3rd time in a row');
    await h.idle();
    expect(toAdmins(from)).toHaveLength(2);
    expect((await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.dev } })).status).toBe('active');
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
