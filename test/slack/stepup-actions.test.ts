/**
 * Walks the domain's list of step-up actions (domain/stepup.ts) through the real receiver: for
 * each, an enrolled user is asked for a code, a wrong code changes nothing and a right one acts.
 * `scenarios` is typed by the list, so a new step-up action does not compile without its Slack path.
 */
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_UP_ACTIONS, type StepUpAction } from '../../src/domain/stepup.js';
import { openSecret, type TotpRecord } from '../../src/domain/totp.js';
import { cliActor, slackActor, type Actor } from '../../src/services/index.js';
import { APPROVE_ACTION } from '../../src/slack/views/approvals.js';
import { REVOKE_ACTION } from '../../src/slack/views/reviews.js';
import { buttonClick, createHarness, U, viewSubmission, type Harness } from './harness.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let h: Harness;
let orgId = '';
let cli: Actor;
const PROJECT = 'sigma';
const ids: Record<string, string> = {};

async function codeOf(user: string) {
  const row = (await h.t.db.totpEnrollment.findFirstOrThrow({ where: { userId: user } })) as TotpRecord;
  return generate({ secret: openSecret(h.services.deps.secret, row), epoch: Math.floor(h.services.deps.now!().getTime() / 1000) });
}
const wrongOf = (c: string) => String((Number(c) + 1) % 1_000_000).padStart(6, '0');
const codeValues = (code: string) => ({ totp: { value: { type: 'plain_text_input', value: code } } });

async function enroll(user: string) {
  const actor = slackActor(orgId, user, false);
  await h.services.totp.enroll(actor);
  await h.services.totp.verify(actor, await codeOf(user));
}

/** A slash command that should open a modal with the code field; returns that modal. */
async function commandModal(command: string, text: string, user: string): Promise<Json> {
  const from = h.calls.length;
  const { triggerId } = await h.command(command, text, user);
  return (await h.waitForCall('views.open', from, (c) => c.body.trigger_id === triggerId)).body.view as Json;
}
async function clickModal(user: string, action_id: string, value: string): Promise<Json> {
  const from = h.calls.length;
  const payload = buttonClick(user, { action_id, value }, { channel: { id: `D${user}` }, message: { ts: '1.000200' } });
  expect((await h.interact(payload)).status).toBe(200);
  return (await h.waitForCall('views.open', from, (c) => c.body.trigger_id === payload.trigger_id)).body.view as Json;
}

interface Scenario {
  /** Who acts (enrolled). */
  user: string;
  /** Starts the action in Slack; returns the modal holding the code field. */
  open(): Promise<Json>;
  /** Whether the action took effect. */
  done(): Promise<boolean>;
}
/** Actions whose code comes in the command itself rather than a modal. */
interface CommandScenario {
  user: string;
  run(code: string | null): Promise<string>;
  done(): Promise<boolean>;
}

const member = (userId: string) => h.t.db.membership.findFirst({ where: { userId, project: { name: PROJECT } } });
const key = (id: string) => h.t.db.apiKey.findUniqueOrThrow({ where: { id } });

const scenarios: Record<StepUpAction, Scenario | CommandScenario> = {
  'member.add': { user: U.admin, open: () => commandModal('/project', `add ${PROJECT} <@UNEWADMIN> admin`, U.admin), done: async () => (await member('UNEWADMIN'))?.role === 'admin' },
  'member.role': { user: U.admin, open: () => commandModal('/project', `role ${PROJECT} <@UROLE> viewer`, U.admin), done: async () => (await member('UROLE'))?.role === 'viewer' },
  'member.remove': { user: U.admin, open: () => commandModal('/project', `remove ${PROJECT} <@UREMOVE>`, U.admin), done: async () => (await member('UREMOVE')) === null },
  'project.policy': { user: U.org, open: () => commandModal('/project', 'policy tau approval=always', U.org), done: async () => (await h.t.db.project.findFirstOrThrow({ where: { name: 'tau' } })).approvalPolicy === 'always' },
  'project.archive': { user: U.org, open: () => commandModal('/project', 'archive tau', U.org), done: async () => (await h.t.db.project.findFirstOrThrow({ where: { name: 'tau' } })).archivedAt !== null },
  'key.create': { user: U.admin, open: () => commandModal('/keys', `create ${PROJECT} Deploy --env prod`, U.admin), done: async () => (await h.t.db.apiKey.count({ where: { name: 'Deploy' } })) === 1 },
  'key.revoke': { user: U.admin, open: () => commandModal('/keys', `revoke ${ids.revoke}`, U.admin), done: async () => (await key(ids.revoke!)).status === 'revoked' },
  'key.rotate': { user: U.admin, open: () => commandModal('/keys', `rotate ${ids.rotate}`, U.admin), done: async () => (await key(ids.rotate!)).prevSecretHash !== null },
  'limits.set': { user: U.admin, open: () => commandModal('/limits', `set ${PROJECT} hard=100`, U.admin), done: async () => (await h.t.db.limit.count()) === 1 },
  'approval.approve': { user: U.admin, open: () => clickModal(U.admin, APPROVE_ACTION, ids.request!), done: async () => (await h.t.db.approvalRequest.findUniqueOrThrow({ where: { id: ids.request! } })).status === 'approved' },
  'review.revoke': { user: U.admin, open: () => clickModal(U.admin, REVOKE_ACTION, ids.item!), done: async () => (await h.t.db.reviewItem.findUniqueOrThrow({ where: { id: ids.item! } })).decision === 'revoke' },
  'review.close': { user: U.org, open: () => commandModal('/keyward', 'review close --unreviewed revoke', U.org), done: async () => (await h.t.db.reviewCampaign.findFirstOrThrow()).status === 'closed' },
  'totp.reset': {
    user: U.org,
    run: async (code) => (await h.ask('/keyward', `2fa reset <@${U.viewer}>${code ? ` ${code}` : ''}`, U.org)).text,
    done: async () => (await h.t.db.totpEnrollment.count({ where: { userId: U.viewer } })) === 0,
  },
};


describe('every step-up action asks enrolled users for a code in Slack', () => {
  beforeAll(async () => {
    h = await createHarness();
    orgId = (await h.t.db.org.findFirst())?.id ?? '';
    await h.ask('/project', `create ${PROJECT}`, U.org);
    orgId = (await h.t.db.org.findFirstOrThrow()).id;
    cli = cliActor(orgId, 'test');
    await h.ask('/project', 'create tau', U.org);
    const p = h.services.projects;
    await p.addMember(cli, PROJECT, U.admin, 'admin');
    for (const u of [U.dev, 'UROLE', 'UREMOVE', 'UREVIEWED']) await p.addMember(cli, PROJECT, u, 'developer');
    ids.revoke = (await h.services.keys.create(cli, { project: PROJECT, name: 'Prod A', environment: 'prod', ownerId: U.admin })).key.id;
    ids.rotate = (await h.services.keys.create(cli, { project: PROJECT, name: 'Prod B', environment: 'prod', ownerId: U.admin })).key.id;
    const asked = await h.services.approvals.createOrRequest(slackActor(orgId, U.dev, false), { project: PROJECT, name: 'Wanted', environment: 'prod' }, [U.org]);
    ids.request = asked.kind === 'requested' ? asked.request.id : '';
    await h.services.reviews.start(cli, { dueDays: 14 });
    ids.item = (await h.t.db.reviewItem.findFirstOrThrow({ where: { kind: 'membership', subjectId: 'UREVIEWED' } })).id;
    for (const u of [U.org, U.admin, U.viewer]) await enroll(u);
  });
  afterAll(async () => {
    await h?.idle(500); // let the last modal's work (deliveries, DM updates) finish before the database goes
    await h?.close();
  });

  it('the list covers what the README promises', () => {
    expect(STEP_UP_ACTIONS).toEqual(Object.keys(scenarios));
    expect(STEP_UP_ACTIONS).toEqual(expect.arrayContaining(['member.add', 'member.remove', 'project.policy', 'key.create', 'review.close']));
  });

  it('the /keys create modal: enrolled users get an optional code field; a prod key needs it, a dev key does not', async () => {
    h.advance(31_000);
    const view = await commandModal('/keys', 'create', U.admin);
    const field = (view.blocks as Json[]).find((b) => b.block_id === 'totp');
    expect(field).toMatchObject({ optional: true });
    const form = (name: string, env: string, code?: string) => ({
      name: { value: { type: 'plain_text_input', value: name } },
      project: { value: { type: 'static_select', selected_option: { value: PROJECT } } },
      env: { value: { type: 'static_select', selected_option: { value: env } } },
      // An empty optional field still comes back in the state, with a null value.
      totp: { value: { type: 'plain_text_input', value: code ?? null } },
    });
    const count = (name: string) => h.t.db.apiKey.count({ where: { name } });
    const none = await h.interact(viewSubmission(U.admin, view, 'VCREATE1', form('Modal Prod', 'prod')));
    expect(JSON.parse(none.text)).toMatchObject({ response_action: 'errors', errors: { totp: expect.stringContaining('code') } });
    const wrong = await h.interact(viewSubmission(U.admin, view, 'VCREATE2', form('Modal Prod', 'prod', wrongOf(await codeOf(U.admin)))));
    expect(JSON.parse(wrong.text)).toMatchObject({ response_action: 'errors', errors: { totp: expect.stringContaining('wrong') } });
    await h.idle();
    expect(await count('Modal Prod')).toBe(0);
    await h.interact(viewSubmission(U.admin, view, 'VCREATE3', form('Modal Prod', 'prod', await codeOf(U.admin))));
    await expect.poll(() => count('Modal Prod')).toBe(1);
    await h.interact(viewSubmission(U.admin, view, 'VCREATE4', form('Modal Dev', 'dev')));
    await expect.poll(() => count('Modal Dev')).toBe(1);
  });

  for (const action of STEP_UP_ACTIONS) {
    it(`${action}: a code is asked; a wrong one changes nothing; a right one acts`, async () => {
      const s = scenarios[action];
      h.advance(31_000); // a fresh time step: every right code below is unused
      expect(await s.done()).toBe(false);
      if ('run' in s) {
        expect(await s.run(null)).toContain('code');
        expect(await s.run(wrongOf(await codeOf(s.user)))).toContain('wrong');
        expect(await s.done()).toBe(false);
        await s.run(await codeOf(s.user));
        await expect.poll(() => s.done()).toBe(true);
        return;
      }
      const view = await s.open();
      expect((view.blocks as Json[]).some((b) => b.block_id === 'totp')).toBe(true);
      const bad = await h.interact(viewSubmission(s.user, view, `V${action}1`, codeValues(wrongOf(await codeOf(s.user)))));
      expect(JSON.parse(bad.text)).toMatchObject({ response_action: 'errors', errors: { totp: expect.stringContaining('wrong') } });
      await h.idle();
      expect(await s.done()).toBe(false);
      await h.interact(viewSubmission(s.user, view, `V${action}2`, codeValues(await codeOf(s.user))));
      await expect.poll(() => s.done()).toBe(true);
    });
  }
});

describe('users without 2FA (and 2FA not required) act at once, as before', () => {
  let g: Harness;
  beforeAll(async () => {
    g = await createHarness();
    await g.ask('/project', 'create omega', U.org);
    await g.ask('/project', `add omega <@${U.dev}> developer`, U.org);
    await g.ask('/keyward', 'review start', U.org);
  });
  afterAll(async () => g?.close());

  it('adding an Admin, removing, the policy, a prod key, closing a review with revoke: no modal, done', async () => {
    const from = g.calls.length;
    expect((await g.ask('/project', `add omega <@${U.admin}> admin`, U.wsAdmin)).text).toContain('as Admin');
    expect((await g.ask('/project', `remove omega <@${U.dev}>`, U.wsAdmin)).text).toContain('Removed');
    expect((await g.ask('/project', 'policy omega approval=none', U.wsAdmin)).text).toContain('now `none`');
    expect((await g.ask('/keys', 'create omega Live --env prod', U.admin)).text).toContain('Created key');
    expect((await g.ask('/keyward', 'review close --unreviewed revoke', U.wsAdmin)).text).toContain('closed');
    expect(g.callsTo('views.open', from)).toEqual([]);
    expect((await g.t.db.reviewCampaign.findFirstOrThrow()).status).toBe('closed');
  });
});
