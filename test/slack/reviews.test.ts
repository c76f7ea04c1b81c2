import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendReviewReminders } from '../../src/slack/handlers/reviews.js';
import { KEEP_ACTION, KEEP_ALL_ACTION, REVOKE_ACTION } from '../../src/slack/views/reviews.js';
import { buttonClick, createHarness, U, type Harness } from './harness.js';

let h: Harness;
const DAY = 86_400_000;

beforeAll(async () => {
  h = await createHarness();
  await h.ask('/project', 'create rev', U.org);
  await h.ask('/project', `add rev <@${U.admin}> admin`, U.org);
  await h.ask('/project', `add rev <@${U.dev}> developer`, U.org);
  await h.ask('/project', `add rev <@${U.dev2}> developer`, U.org);
  await h.ask('/keys', 'create rev Dev Key', U.dev);
  await h.ask('/keys', 'create rev Other Key', U.dev2);
});
afterAll(async () => h?.close());

const item = (kind: string, subjectId: string) => h.t.db.reviewItem.findFirstOrThrow({ where: { kind, subjectId } });
const keyOf = (name: string) => h.t.db.apiKey.findFirstOrThrow({ where: { name } });

async function click(user: string, action_id: string, value: string) {
  const payload = buttonClick(user, { action_id, value });
  expect((await h.interact(payload)).status).toBe(200);
  return payload.response_url as string;
}

describe('access review (Slack)', () => {
  it('only org admins start; start snapshots memberships and keys and DMs each project Admin', async () => {
    expect((await h.ask('/keyward', 'review start', U.dev)).text).toContain('Only org admins');
    const from = h.calls.length;
    const r = await h.ask('/keyward', 'review start --due 10d', U.org);
    expect(r.text).toContain('Started access review');
    const campaign = await h.t.db.reviewCampaign.findFirstOrThrow();
    expect(campaign.status).toBe('open');
    // 4 memberships (UORG, admin, dev, dev2) + 2 keys.
    expect(await h.t.db.reviewItem.count()).toBe(6);
    const dm = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.admin}`);
    expect(JSON.stringify(dm.body)).toContain(KEEP_ACTION);
    expect((await h.ask('/keyward', 'review start', U.org)).text).toContain('still open');
    expect(await h.t.db.auditEvent.count({ where: { action: 'review.started' } })).toBe(1);
  });

  it('Keep records the decision; own access cannot be kept; Revoke acts at once and wins over Keep', async () => {
    const devMember = await item('membership', U.dev);
    const from = h.calls.length;
    await click(U.admin, KEEP_ACTION, devMember.id);
    await expect.poll(async () => (await item('membership', U.dev)).decision).toBe('keep');
    await h.waitForCall('chat.update', from, (c) => c.body.channel === `D${U.admin}`);
    const own = await click(U.admin, KEEP_ACTION, (await item('membership', U.admin)).id);
    expect(String((await h.waitForResponse(own)).text)).toContain('cannot keep your own');

    const key = await keyOf('Other Key');
    await click(U.admin, KEEP_ACTION, (await item('key', key.id)).id);
    await expect.poll(async () => (await item('key', key.id)).decision).toBe('keep');
    await click(U.org, REVOKE_ACTION, (await item('key', key.id)).id);
    // The key is revoked first, then the decision recorded: wait for the decision, not the key.
    await expect.poll(async () => (await item('key', key.id)).decision).toBe('revoke');
    expect(await item('key', key.id)).toMatchObject({ decision: 'revoke', decidedBy: U.org });
    expect((await keyOf('Other Key')).status).toBe('revoked');
    const again = await click(U.admin, KEEP_ACTION, (await item('key', key.id)).id);
    expect(String((await h.waitForResponse(again)).text)).toContain('Already revoked');
    expect(await h.t.db.auditEvent.count({ where: { action: 'review.revoked', targetId: key.id } })).toBe(1);
    expect(await h.t.db.auditEvent.count({ where: { action: 'key.revoked', targetId: key.id } })).toBe(1);
  });

  it('status shows progress per project and reviewer', async () => {
    const r = await h.ask('/keyward', 'review status', U.org);
    expect(JSON.stringify(r.body)).toContain('rev');
    expect(r.text).toMatch(/2 of 6 items decided/);
  });

  it('reminders follow the cadence, once per day at most', async () => {
    const slackDeps = { services: h.services, logger: h.services.deps.logger, now: () => h.services.deps.now!(), admins: { list: async () => [U.org] } as never };
    expect(await sendReviewReminders(slackDeps, h.slack.client)).toBe(0); // start day
    h.advance(7 * DAY);
    const from = h.calls.length;
    expect(await sendReviewReminders(slackDeps, h.slack.client)).toBe(1); // a week later
    await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.admin}` && JSON.stringify(c.body).includes('Reminder'));
    expect(await sendReviewReminders(slackDeps, h.slack.client)).toBe(0);
    h.advance(-7 * DAY);
  });

  it('close --unreviewed revoke revokes what nobody reviewed, posts the report and uploads the CSV', async () => {
    const dev2 = await item('membership', U.dev2);
    expect(dev2.decision).toBeNull();
    expect((await h.ask('/keyward', 'review close --unreviewed revoke', U.admin)).text).toContain('Only org admins');
    const from = h.calls.length;
    const r = await h.ask('/keyward', 'review close --unreviewed revoke', U.org);
    expect(r.text).toContain('closed');
    expect(await h.t.db.membership.count({ where: { userId: U.dev2 } })).toBe(0);
    expect((await keyOf('Dev Key')).status).toBe('revoked');
    // Kept items stay.
    expect(await h.t.db.membership.count({ where: { userId: U.dev } })).toBe(1);
    expect(await item('membership', U.dev2)).toMatchObject({ decision: 'revoke', auto: true });
    const upload = await h.waitForCall('files.getUploadURLExternal', from);
    expect(String(upload.body.filename)).toMatch(/^access-review-.*\.csv$/);
    const csv = h.responses.find((x) => x.url.includes('/upload/access-review-'))!.raw;
    expect(csv).toContain('decided_at_close');
    expect(csv).toContain(U.dev2);
    await h.waitForCall('files.completeUploadExternal', from);
    expect((await h.t.db.reviewCampaign.findFirstOrThrow()).status).toBe('closed');
    const late = await click(U.admin, KEEP_ALL_ACTION, JSON.stringify({ c: dev2.campaignId, p: dev2.projectId }));
    expect(String((await h.waitForResponse(late)).text)).toContain('closed');
  });
});
