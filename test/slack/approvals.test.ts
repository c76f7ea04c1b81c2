import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecret, type TotpRecord } from '../../src/domain/totp.js';
import { slackActor } from '../../src/services/index.js';
import { createTotpService } from '../../src/services/twofactor-repo.js';
import { expireApprovalRequests } from '../../src/slack/handlers/approvals.js';
import { APPROVE_ACTION, CANCEL_ACTION, DENY_ACTION } from '../../src/slack/views/approvals.js';
import { buttonClick, createHarness, U, viewSubmission, type Harness, type SlackCall } from './harness.js';

let h: Harness;
const HOUR = 3_600_000;

beforeAll(async () => {
  h = await createHarness();
  await h.ask('/project', 'create beta', U.org);
  for (const [user, role] of [[U.admin, 'admin'], [U.dev, 'developer'], [U.dev2, 'developer']] as const) {
    await h.ask('/project', `add beta <@${user}> ${role}`, U.org);
  }
});
afterAll(async () => h?.close());

const orgId = async () => (await h.t.db.org.findFirstOrThrow()).id;
const latestRequest = () => h.t.db.approvalRequest.findFirstOrThrow({ orderBy: { createdAt: 'desc' } });
const text = (c: SlackCall) => JSON.stringify(c.body);

/** Developer asks for a prod key; returns the request row and where the approver DM went. */
async function ask(name: string, user: string = U.dev) {
  const from = h.calls.length;
  const r = await h.ask('/keys', `create beta ${name} --env prod --reason "launch day"`, user);
  const req = await latestRequest();
  return { answer: r.text, req, from };
}

async function click(user: string, actionId: string, id: string) {
  const from = h.calls.length;
  const payload = buttonClick(user, { action_id: actionId, value: id }, { channel: { id: `D${user}` }, message: { ts: '1.000200' } });
  const res = await h.interact(payload);
  expect(res.status).toBe(200);
  return { from, responseUrl: payload.response_url as string };
}

async function openedModal(user: string, actionId: string, id: string) {
  const { from } = await click(user, actionId, id);
  const open = await h.waitForCall('views.open', from);
  return open.body.view as Record<string, unknown>;
}

describe('key approval flow (Slack)', () => {
  it('a Developer asking for a prod key gets a pending request, no key; Admins get Approve/Deny', async () => {
    const before = await h.t.db.apiKey.count();
    const { answer, req, from } = await ask('Prod App');
    expect(answer).toContain('pending');
    expect(req).toMatchObject({ status: 'pending', requesterId: U.dev, environment: 'prod', keyName: 'Prod App', reason: 'launch day' });
    expect(await h.t.db.apiKey.count()).toBe(before);
    const dm = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.admin}`);
    expect(text(dm)).toContain(APPROVE_ACTION);
    expect(text(dm)).toContain(DENY_ACTION);
    // The requester gets the pending notice with Cancel, never Approve buttons; other Developers get nothing.
    const mine = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.dev}`);
    expect(text(mine)).toContain(CANCEL_ACTION);
    expect(text(mine)).not.toContain(APPROVE_ACTION);
    expect(h.callsTo('chat.postMessage', from).some((c) => c.body.channel === `D${U.dev2}`)).toBe(false);
    const audit = await h.t.db.auditEvent.findFirst({ where: { action: 'approval.requested', targetId: req.id } });
    expect(audit).not.toBeNull();
  });

  it('self-approval is refused without opening a modal', async () => {
    const req = await latestRequest();
    const { from, responseUrl } = await click(U.dev, APPROVE_ACTION, req.id);
    const answer = await h.waitForResponse(responseUrl);
    expect(String(answer.text)).toContain('cannot approve your own request');
    expect(h.callsTo('views.open', from)).toHaveLength(0);
  });

  it('approve: key created for the requester, delivered to them, every approver copy updated; later clicks see who approved', async () => {
    const req = await latestRequest();
    const view = await openedModal(U.admin, APPROVE_ACTION, req.id);
    expect(JSON.stringify(view)).not.toContain('"totp"');
    const from = h.calls.length;
    const res = await h.interact(viewSubmission(U.admin, view, 'VAPPROVE1', { note: { value: { type: 'plain_text_input', value: 'ship it' } } }));
    expect(res.status).toBe(200);
    const reveal = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.dev}` && text(c).includes('keyward_reveal'));
    expect(reveal).toBeDefined();
    const row = await h.t.db.approvalRequest.findUniqueOrThrow({ where: { id: req.id } });
    expect(row).toMatchObject({ status: 'approved', decidedBy: U.admin, decisionNote: 'ship it' });
    const key = await h.t.db.apiKey.findUniqueOrThrow({ where: { id: row.keyId! } });
    expect(key).toMatchObject({ ownerId: U.dev, environment: 'prod', name: 'Prod App', status: 'active' });
    const update = await h.waitForCall('chat.update', from, (c) => c.body.channel === `D${U.admin}`);
    expect(text(update)).toContain('Approved');
    expect(text(update)).not.toContain(APPROVE_ACTION);
    // The secret went only to the requester.
    const eph = h.callsTo('chat.postEphemeral', from);
    expect(eph.every((c) => c.body.user === U.dev)).toBe(true);

    // Double click by another approver and a retried submission: nothing happens twice.
    const later = await click(U.org, APPROVE_ACTION, req.id);
    expect(String((await h.waitForResponse(later.responseUrl)).text)).toContain(`already approved by <@${U.admin}>`);
    const retry = await h.interact(viewSubmission(U.admin, view, 'VAPPROVE1', {}));
    expect(retry.text).toContain('already approved');
    expect(await h.t.db.apiKey.count({ where: { name: 'Prod App' } })).toBe(1);
    expect(await h.t.db.auditEvent.count({ where: { action: 'approval.approved', targetId: req.id } })).toBe(1);
  });

  it('deny asks for a reason and tells the requester', async () => {
    const { req } = await ask('Denied App');
    const view = await openedModal(U.admin, DENY_ACTION, req.id);
    const empty = await h.interact(viewSubmission(U.admin, view, 'VDENY1', { reason: { value: { type: 'plain_text_input', value: '  ' } } }));
    expect(empty.text).toContain('errors');
    const from = h.calls.length;
    await h.interact(viewSubmission(U.admin, view, 'VDENY2', { reason: { value: { type: 'plain_text_input', value: 'use staging first' } } }));
    const told = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.dev}` && text(c).includes('denied'));
    expect(text(told)).toContain('use staging first');
    expect(await h.t.db.approvalRequest.findUniqueOrThrow({ where: { id: req.id } })).toMatchObject({ status: 'denied', keyId: null });
  });

  it('the requester can cancel; /keys requests lists only pending requests', async () => {
    const { req: a } = await ask('Cancelled App');
    const { req: b } = await ask('Listed App', U.dev2);
    await click(U.dev, CANCEL_ACTION, a.id);
    await expect.poll(async () => (await h.t.db.approvalRequest.findUniqueOrThrow({ where: { id: a.id } })).status).toBe('cancelled');
    const list = await h.ask('/keys', 'requests', U.admin);
    expect(JSON.stringify(list.body)).toContain(b.id);
    expect(JSON.stringify(list.body)).not.toContain(a.id);
    // App Home shows them too (to the approver, not to an unrelated Developer).
    const from = h.calls.length;
    expect(await h.event({ type: 'app_home_opened', user: U.admin, tab: 'home', channel: 'DHOME' })).toBe(200);
    const home = await h.waitForCall('views.publish', from);
    expect(JSON.stringify(home.body.view)).toContain('Pending key requests');
    expect(JSON.stringify(home.body.view)).toContain(b.id);
  });

  it('expiry after the TTL: requester told, approver copies updated, approving then refused', async () => {
    const { req } = await ask('Late App');
    h.advance(25 * HOUR);
    const from = h.calls.length;
    const slackDeps = { services: h.services, logger: h.services.deps.logger, now: () => h.services.deps.now!(), admins: undefined as never };
    expect(await expireApprovalRequests(slackDeps, h.slack.client)).toBeGreaterThanOrEqual(1);
    const told = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.dev}` && text(c).includes('expired'));
    expect(told).toBeDefined();
    expect(h.callsTo('chat.update', from).some((c) => c.body.channel === `D${U.admin}` && text(c).includes('Expired'))).toBe(true);
    expect(await expireApprovalRequests(slackDeps, h.slack.client)).toBe(0);
    const late = await click(U.admin, APPROVE_ACTION, req.id);
    expect(String((await h.waitForResponse(late.responseUrl)).text)).toContain('expired');
    h.advance(-25 * HOUR);
  });

  it('an approver with 2FA must enter a code: a wrong one is refused on the field, a good one approves', async () => {
    const { req } = await ask('Guarded App');
    const totp = createTotpService(h.services.deps);
    const admin = slackActor(await orgId(), U.admin, false);
    await totp.enroll(admin);
    const code = async () => {
      const row = (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.admin } })) as TotpRecord;
      return generate({ secret: openSecret(h.services.deps.secret, row), epoch: Math.floor(h.services.deps.now!().getTime() / 1000) });
    };
    await totp.verify(admin, await code());
    h.advance(31_000); // the next time step: the enroll code cannot be replayed
    const view = await openedModal(U.admin, APPROVE_ACTION, req.id);
    expect(JSON.stringify(view)).toContain('"totp"');
    const good = await code();
    const wrong = String((Number(good) + 1) % 1_000_000).padStart(6, '0');
    const bad = await h.interact(viewSubmission(U.admin, view, 'VAPPROVE2', { totp: { value: { type: 'plain_text_input', value: wrong } } }));
    expect(bad.text).toContain('errors');
    expect(bad.text).toContain('wrong');
    expect((await h.t.db.approvalRequest.findUniqueOrThrow({ where: { id: req.id } })).status).toBe('pending');
    await h.interact(viewSubmission(U.admin, view, 'VAPPROVE3', { totp: { value: { type: 'plain_text_input', value: good } } }));
    await expect.poll(async () => (await h.t.db.approvalRequest.findUniqueOrThrow({ where: { id: req.id } })).status).toBe('approved');
    expect(await h.t.db.auditEvent.count({ where: { action: 'totp.step_up' } })).toBe(1);
  });

  it('/project policy changes who needs approval (none: the Developer gets the key at once)', async () => {
    // U.admin has 2FA (above): changing the policy asks for a code first.
    h.advance(31_000);
    const { triggerId, responseUrl } = await h.command('/project', 'policy beta approval=none', U.admin);
    const modal = (await h.waitForCall('views.open', 0, (c) => c.body.trigger_id === triggerId)).body.view as Record<string, unknown>;
    const row = (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: U.admin } })) as TotpRecord;
    const code = generate({ secret: openSecret(h.services.deps.secret, row), epoch: Math.floor(h.services.deps.now!().getTime() / 1000) });
    await h.interact(viewSubmission(U.admin, modal, 'VPOL', { totp: { value: { type: 'plain_text_input', value: await code } } }));
    expect(String((await h.waitForResponse(responseUrl)).text)).toContain('now `none`');
    const dev = await h.ask('/project', 'policy beta approval=always', U.dev);
    expect(dev.text).toContain('Only Admins');
    const created = await h.ask('/keys', 'create beta Free App --env prod', U.dev);
    expect(created.text).toContain('Created key');
    await h.ask('/project', 'policy beta approval=always', U.org); // no 2FA: acts at once
    const staging = await h.ask('/keys', 'create beta Staging App --env staging', U.dev);
    expect(staging.text).toContain('pending');
    expect(await h.t.db.auditEvent.count({ where: { action: 'project.policy_set' } })).toBe(2);
  });
});

describe('approval policy scope and user text (Slack)', () => {
  it('approval=prod covers full-scope keys: a Developer asking for --scope full on dev gets a request, not a key', async () => {
    await h.ask('/project', 'policy beta approval=prod', U.org);
    const before = await h.t.db.apiKey.count();
    const r = await h.ask('/keys', 'create beta Full Dev --env dev --scope full', U.dev);
    expect(r.text).toContain('pending');
    expect(JSON.stringify(r.body.blocks)).toContain('full-scope');
    expect(await h.t.db.apiKey.count()).toBe(before);
    expect(await latestRequest()).toMatchObject({ keyName: 'Full Dev', scope: 'full', environment: 'dev', status: 'pending' });
    // An inference key on dev still needs nobody.
    expect((await h.ask('/keys', 'create beta Plain Dev --env dev', U.dev)).text).toContain('Created key');
  });

  it('an approval whose key cannot be created approves nothing: the request stays pending, the requester is told, a later approval works', async () => {
    await h.ask('/project', 'policy beta approval=prod', U.org);
    const { req } = await ask('Clash App');
    // An Admin takes the name before anyone decides.
    const taken = await h.ask('/keys', 'create beta Clash App --env dev', U.admin);
    const takenId = /key_[0-9A-Za-z]+/.exec(taken.text)![0];
    // (U.admin enrolled in 2FA above; the org admin approves without a code.)
    const view = await openedModal(U.org, APPROVE_ACTION, req.id);
    const from = h.calls.length;
    const res = await h.interact(viewSubmission(U.org, view, 'VCLASH1', {}));
    expect(res.text).toContain('Not approved');
    expect(res.text).toContain('already has an active key named');
    expect(await h.t.db.approvalRequest.findUniqueOrThrow({ where: { id: req.id } })).toMatchObject({ status: 'pending', keyId: null, decidedBy: null });
    const told = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.dev}` && text(c).includes('still pending'));
    expect(text(told)).toContain('already has an active key named');
    expect(await h.t.db.apiKey.count({ where: { name: 'Clash App', ownerId: U.dev } })).toBe(0);
    expect(await h.t.db.auditEvent.count({ where: { targetId: req.id, action: 'approval.approved' } })).toBe(0);

    await h.services.keys.revoke(slackActor(await orgId(), U.admin, false), takenId, 'name needed');
    const again = await openedModal(U.org, APPROVE_ACTION, req.id);
    await h.interact(viewSubmission(U.org, again, 'VCLASH2', {}));
    await expect.poll(async () => (await h.t.db.approvalRequest.findUniqueOrThrow({ where: { id: req.id } })).status).toBe('approved');
    const row = await h.t.db.approvalRequest.findUniqueOrThrow({ where: { id: req.id } });
    expect(await h.t.db.apiKey.findUniqueOrThrow({ where: { id: row.keyId! } })).toMatchObject({ name: 'Clash App', ownerId: U.dev, status: 'active' });
  });

  it("a reason with a line break cannot fake a field in the approver's DM", async () => {
    const from = h.calls.length;
    await h.ask('/keys', 'create beta Sneaky --env dev --scope full --reason "testing\n*Environment:* prod"', U.dev);
    const dm = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.admin}` && text(c).includes('Sneaky'));
    const mrkdwn = (dm.body.blocks as { text?: { text?: string } }[]).map((b) => b.text?.text ?? '').join('\n');
    // keyward's own Environment field appears once, saying dev; the requester's words sit in a quote.
    expect(mrkdwn.match(/\*Environment:\*/g)).toHaveLength(1);
    expect(mrkdwn).toContain('*Environment:* dev');
    expect(mrkdwn.split('\n').filter((l) => /Environment/.test(l) && !l.startsWith('>'))).toHaveLength(1);
    expect(mrkdwn).toMatch(/^>testing$/m);
  });
});
