import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgres } from '../helpers/db.js';
import { buttonClick, createHarness, U, viewSubmission, type Harness } from './harness.js';

const KEY_ID = /key_[0-9A-Za-z]{8,}/;
const keyIdIn = (text: string) => KEY_ID.exec(text)?.[0] ?? '';

const createValues = (v: { name?: string; project?: string; scope?: string; env?: string; expires?: string | null }) => ({
  name: { value: { type: 'plain_text_input', value: v.name ?? null } },
  project: { value: { type: 'static_select', selected_option: v.project ? { value: v.project } : null } },
  scope: { value: { type: 'static_select', selected_option: { value: v.scope ?? 'inference' } } },
  env: { value: { type: 'static_select', selected_option: { value: v.env ?? 'dev' } } },
  expires: { value: { type: 'number_input', value: v.expires ?? null } },
});

describe(`/keys through Slack (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  let devKey: string;

  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create beta', U.org);
    await h.ask('/project', 'create gamma', U.org);
    for (const [user, role] of [[U.admin, 'admin'], [U.dev, 'developer'], [U.dev2, 'developer'], [U.viewer, 'viewer']] as const) {
      await h.ask('/project', `add beta <@${user}> ${role}`, U.org);
    }
    await h.ask('/project', `add gamma <@${U.dev}> viewer`, U.org);
    // Developers here create full-scope keys themselves (approvals are tested in approvals.test.ts).
    await h.ask('/project', 'policy beta approval=none', U.org);
  });
  afterAll(async () => h?.close());

  it('create with every flag: answers with the key id, never the secret, and stores the settings', async () => {
    const r = await h.ask('/keys', 'create beta Production App --scope full --env staging --expires 30d --rpm 60', U.dev);
    devKey = keyIdIn(r.text);
    expect(devKey).toMatch(KEY_ID);
    expect(r.body.response_type).toBe('ephemeral');
    expect(r.text).toContain('Production App');
    expect(r.text).toContain('DM');
    expect(JSON.stringify(r.body)).not.toMatch(/sk-kw-[0-9A-Za-z]{20}/);
    const key = await h.t.db.apiKey.findUniqueOrThrow({ where: { id: devKey } });
    expect(key).toMatchObject({ name: 'Production App', scope: 'full', environment: 'staging', rpm: 60, ownerId: U.dev, status: 'active' });
    const days = (key.expiresAt!.getTime() - key.createdAt.getTime()) / 86_400_000;
    expect(days).toBeCloseTo(30, 5);
  });

  it('create with defaults and a quoted name; the Developer owns it', async () => {
    const r = await h.ask('/keys', 'create beta "Local Dev"', U.dev2);
    const key = await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyIdIn(r.text) } });
    expect(key).toMatchObject({ name: 'Local Dev', scope: 'inference', environment: 'dev', expiresAt: null, ownerId: U.dev2 });
  });

  it('create: authorization matrix', async () => {
    const refusals: [string, string, RegExp][] = [
      [U.viewer, 'create beta Viewer Key', /Viewers cannot create keys/],
      [U.outsider, 'create beta Outsider Key', /No project named "beta" that you can see/],
      [U.dev, 'create gamma Gamma Key', /Viewers cannot create keys/],
    ];
    for (const [user, text, expected] of refusals) expect((await h.ask('/keys', text, user)).text).toMatch(expected);
    for (const user of [U.admin, U.org]) expect((await h.ask('/keys', `create beta Key of ${user}`, user)).text).toMatch(KEY_ID);
    expect(await h.t.db.apiKey.count({ where: { name: { in: ['Viewer Key', 'Outsider Key', 'Gamma Key'] } } })).toBe(0);
  });

  it('create: bad input gets a specific message and creates nothing', async () => {
    const before = await h.t.db.apiKey.count();
    const cases: [string, RegExp][] = [
      ['create beta Production App', /already has an active key named "Production App"/],
      ['create beta Bad/Name', /letters, digits, spaces/],
      ['create beta X --scope admin', /Unknown scope "admin"/],
      ['create beta X --env qa', /Unknown environment "qa"/],
      ['create beta X --expires 10', /--expires takes a number of days/],
      ['create beta X --expires 0d', /--expires takes a number of days/],
      ['create beta X --rpm lots', /--rpm takes a whole number/],
      ['create beta X --color red', /Unknown option "--color"/],
      ['create beta X --scope', /--scope needs a value/],
      ['create beta X --env dev --env prod', /--env is given twice/],
      ['create beta', /Missing arguments/],
      [`create beta ${'n'.repeat(80)}`, /at most 64 characters/],
      ['create ghost X', /No project named "ghost"/],
      ['destroy everything', /Unknown subcommand "destroy"/],
      ['x'.repeat(5_000), /too long/],
    ];
    for (const [text, expected] of cases) expect((await h.ask('/keys', text, U.dev)).text).toMatch(expected);
    expect(await h.t.db.apiKey.count()).toBe(before);
  });

  it('create: the same slash command delivered twice (same trigger_id) creates one key', async () => {
    const before = await h.t.db.apiKey.count();
    const first = await h.command('/keys', 'create beta Retry Key', U.dev, { triggerId: 'trig.same.1' });
    const a = await h.waitForResponse(first.responseUrl);
    const second = await h.command('/keys', 'create beta Retry Key', U.dev, { triggerId: 'trig.same.1' });
    const b = await h.waitForResponse(second.responseUrl);
    expect(await h.t.db.apiKey.count()).toBe(before + 1);
    expect(a.text).toContain(keyIdIn(String(b.text)));
    expect(b.text).toContain('already handled');
  });

  it('list: members see the project keys with ids; outsiders see nothing', async () => {
    const v = await h.ask('/keys', 'list beta', U.viewer);
    expect(v.text).toContain(devKey);
    expect(JSON.stringify(v.body.blocks)).toContain(devKey);
    const mine = await h.ask('/keys', 'list', U.dev);
    expect(mine.text).toContain(devKey);
    expect((await h.ask('/keys', 'list beta', U.outsider)).text).toContain('No project named "beta"');
    expect((await h.ask('/keys', 'list', U.outsider)).text).toContain('No active keys');
    expect((await h.ask('/keys', 'list gamma', U.dev)).text).toContain('No active keys in gamma');
  });

  it('list: long lists are paged within Block Kit limits and "Next" replaces the message', async () => {
    const actorOrg = (await h.t.db.org.findFirstOrThrow()).id;
    const { slackActor } = await import('../../src/services/index.js');
    await h.ask('/project', 'create many', U.org);
    for (let i = 0; i < 55; i++) await h.services.keys.create(slackActor(actorOrg, U.org, true), { project: 'many', name: `bulk key ${i}` });
    const r = await h.ask('/keys', 'list many', U.org);
    expect(r.body.blocks.length).toBeLessThanOrEqual(50);
    const blocksText = JSON.stringify(r.body.blocks);
    expect(blocksText).toContain('Showing 1–40 of 55');
    const actions = r.body.blocks.find((b: { type: string }) => b.type === 'actions');
    const next = actions.elements.find((e: { text: { text: string } }) => e.text.text === 'Next');
    const click = buttonClick(U.org, { action_id: next.action_id, value: next.value });
    expect((await h.interact(click)).status).toBe(200);
    const page2 = await h.waitForResponse(click.response_url);
    expect(page2.replace_original).toBe(true);
    expect(JSON.stringify(page2.blocks)).toContain('Showing 41–55 of 55');
  });

  it('show: details with the id for members; others get "not found"', async () => {
    const v = await h.ask('/keys', `show ${devKey}`, U.viewer);
    expect(v.text).toContain(devKey);
    expect(JSON.stringify(v.body.blocks)).toContain('60 requests/minute');
    expect((await h.ask('/keys', `show ${devKey}`, U.outsider)).text).toContain(`No key ${devKey} that you can see`);
    expect((await h.ask('/keys', 'show not-a-key', U.dev)).text).toContain('is not a key id');
    expect((await h.ask('/keys', 'show', U.dev)).text).toContain('Missing arguments');
  });

  it('create modal: lists only projects where the user may create keys', async () => {
    const from = h.calls.length;
    const { status } = await h.command('/keys', 'create', U.dev);
    expect(status).toBe(200);
    const open = await h.waitForCall('views.open', from);
    const select = open.body.view.blocks.find((b: { block_id?: string }) => b.block_id === 'project');
    expect(select.element.options.map((o: { value: string }) => o.value)).toEqual(['beta']);
    const viewer = await h.ask('/keys', 'create', U.viewer);
    expect(viewer.text).toContain('cannot create keys in any project');
  });

  it('create modal: field errors, then one key for a repeated submission', async () => {
    const from = h.calls.length;
    const cmd = await h.command('/keys', 'create', U.dev);
    const opened = (await h.waitForCall('views.open', from)).body.view;
    const submit = (values: ReturnType<typeof createValues>) => h.interact(viewSubmission(U.dev, opened, 'VMODAL1', values));

    const bad = await submit(createValues({ name: 'Bad/Name', project: 'beta', expires: '0' }));
    const badBody = JSON.parse(bad.text);
    expect(badBody.response_action).toBe('errors');
    expect(badBody.errors.name).toContain('letters, digits');
    expect(badBody.errors.expires).toContain('1 to 3650');

    const taken = JSON.parse((await submit(createValues({ name: 'Production App', project: 'beta' }))).text);
    expect(taken.errors.name).toContain('already has an active key');
    const noProject = JSON.parse((await submit(createValues({ name: 'Fine', project: 'gamma' }))).text);
    expect(noProject.errors.project).toContain('Viewers cannot create keys');

    const before = await h.t.db.apiKey.count();
    const ok = await submit(createValues({ name: 'Modal Key', project: 'beta', scope: 'read-only', env: 'staging', expires: '7' }));
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
    const reply = await h.waitForResponse(cmd.responseUrl);
    const key = await h.t.db.apiKey.findFirstOrThrow({ where: { name: 'Modal Key' } });
    expect(reply.text).toContain(key.id);
    expect(key).toMatchObject({ scope: 'read_only', environment: 'staging', ownerId: U.dev });

    const again = await submit(createValues({ name: 'Modal Key', project: 'beta', scope: 'read-only', env: 'staging', expires: '7' }));
    expect(again.status).toBe(200);
    await h.idle(200);
    expect(await h.t.db.apiKey.count()).toBe(before + 1);
    const replies = h.responses.filter((r) => r.url === cmd.responseUrl);
    expect(replies.at(-1)!.body.text).toContain('already handled');
  });

  it('revoke: matrix before the confirmation modal', async () => {
    const refusals: [string, RegExp][] = [
      [U.dev2, /You cannot revoke/],
      [U.viewer, /You cannot revoke/],
      [U.outsider, /No key .* that you can see/],
    ];
    for (const [user, expected] of refusals) expect((await h.ask('/keys', `revoke ${devKey}`, user)).text).toMatch(expected);
    for (const user of [U.dev, U.admin, U.org]) {
      const from = h.calls.length;
      await h.command('/keys', `revoke ${devKey}`, user);
      const open = await h.waitForCall('views.open', from);
      expect(open.body.view.callback_id).toBe('keyward_keys_revoke');
      expect(JSON.stringify(open.body.view.blocks)).toContain(devKey);
    }
  });

  it('revoke: confirming with a reason revokes once, even if submitted twice', async () => {
    const from = h.calls.length;
    const cmd = await h.command('/keys', `revoke ${devKey}`, U.admin);
    const opened = (await h.waitForCall('views.open', from)).body.view;
    const values = { reason: { value: { type: 'plain_text_input', value: 'left the team' } } };
    const first = await h.interact(viewSubmission(U.admin, opened, 'VREVOKE1', values));
    expect(first.status).toBe(200);
    const reply = await h.waitForResponse(cmd.responseUrl);
    expect(reply.text).toContain(`Revoked key \`${devKey}\``);
    await h.interact(viewSubmission(U.admin, opened, 'VREVOKE1', values));
    await h.idle(200);
    const key = await h.t.db.apiKey.findUniqueOrThrow({ where: { id: devKey } });
    expect(key).toMatchObject({ status: 'revoked', revokeReason: 'left the team', revokedBy: `slack:${U.admin}` });
    expect(await h.t.db.auditEvent.count({ where: { action: 'key.revoked', targetId: devKey } })).toBe(1);
    expect((await h.ask('/keys', `revoke ${devKey}`, U.admin)).text).toContain('already revoked');
  });

  it('rotate: matrix, grace flag, and the answer names the old secret’s end', async () => {
    const r = await h.ask('/keys', 'create beta Rotating', U.dev);
    const id = keyIdIn(r.text);
    for (const [user, expected] of [
      [U.dev2, /Developers can rotate only their own keys/],
      [U.viewer, /Only Admins of beta and the key's owner can rotate/],
      [U.outsider, /No key .* that you can see/],
    ] as const) {
      expect((await h.ask('/keys', `rotate ${id}`, user)).text).toMatch(expected);
    }
    expect((await h.ask('/keys', `rotate ${id} --grace 2x`, U.dev)).text).toContain('--grace takes hours');
    const before = await h.t.db.apiKey.findUniqueOrThrow({ where: { id } });
    const rotated = await h.ask('/keys', `rotate ${id} --grace 2h`, U.dev);
    expect(rotated.text).toContain(id);
    expect(rotated.text).toContain(before.hint);
    const after = await h.t.db.apiKey.findUniqueOrThrow({ where: { id } });
    expect(after.prevHint).toBe(before.hint);
    expect(after.graceEndsAt!.getTime() - after.rotatedAt!.getTime()).toBe(2 * 3_600_000);
    expect((await h.ask('/keys', `rotate ${id} --grace 0h`, U.admin)).text).toContain('stopped working now');
  });

  it('help under /keys', async () => {
    const r = await h.ask('/keys', 'help', U.outsider);
    expect(r.text).toContain('/keys create');
    expect(r.text).toContain('--grace');
  });
});
