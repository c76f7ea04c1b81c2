import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/services/index.js';
import { usingPostgres } from '../helpers/db.js';
import { createHarness, U, viewSubmission, type Harness, type SlackCall } from './harness.js';

const keyIdIn = (text: string) => /key_[0-9A-Za-z]{8,}/.exec(text)?.[0] ?? '';
const text = (c: SlackCall) => JSON.stringify(c.body);

describe(`offboarding through Slack (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create omega', U.org);
    for (const [user, role] of [[U.admin, 'admin'], [U.dev, 'developer'], [U.dev2, 'developer'], [U.viewer, 'viewer']] as const) {
      await h.ask('/project', `add omega <@${user}> ${role}`, U.org);
    }
  });
  afterAll(async () => h?.close());

  const createKey = async (user: string, name: string) => keyIdIn((await h.ask('/keys', `create omega ${name}`, user)).text);
  const key = (id: string) => h.t.db.apiKey.findUniqueOrThrow({ where: { id } });
  const member = (userId: string) => h.t.db.membership.count({ where: { userId } });

  /** `/project remove` → the confirmation modal Slack would show. */
  async function confirmation(target: string, by = U.admin) {
    const from = h.calls.length;
    const { responseUrl } = await h.command('/project', `remove omega <@${target}>`, by);
    const open = await h.waitForCall('views.open', from);
    return { view: open.body.view as Record<string, unknown>, responseUrl };
  }
  const choose = (choice: 'revoke' | 'transfer', heir?: string) => ({
    keys_choice: { value: { type: 'radio_buttons', selected_option: { value: choice } } },
    transfer_to: { value: { type: 'users_select', selected_user: heir ?? null } },
  });

  it('remove lists the member\'s active keys; confirming revokes them (a KeyChange row reaches the gateways) and says so', async () => {
    const a = await createKey(U.dev, 'Dev One');
    const b = await createKey(U.dev, 'Dev Two');
    const others = await createKey(U.dev2, 'Not Theirs');
    const { view, responseUrl } = await confirmation(U.dev);
    const shown = JSON.stringify(view);
    for (const id of [a, b]) expect(shown).toContain(id);
    expect(shown).not.toContain(others);
    expect(shown).toContain('Revoke them now');
    const changes = await h.t.db.keyChange.count({ where: { keyId: a } });
    const res = await h.interact(viewSubmission(U.admin, view, 'VRM1', choose('revoke')));
    expect(res.status).toBe(200);
    const answer = await h.waitForResponse(responseUrl);
    expect(String(answer.text)).toContain(`Removed <@${U.dev}> (Developer)`);
    expect(String(answer.text)).toContain(a);
    for (const id of [a, b]) expect(await key(id)).toMatchObject({ status: 'revoked', revokedBy: `slack:${U.admin}` });
    expect(await h.t.db.keyChange.count({ where: { keyId: a } })).toBe(changes + 1);
    expect((await key(others)).status).toBe('active');
    expect(await member(U.dev)).toBe(0);
  });

  it('transfer: a Viewer cannot take the keys (error on the field, nothing changes); an Admin can and is told', async () => {
    const k = await createKey(U.dev2, 'Handed Over');
    const { view, responseUrl } = await confirmation(U.dev2);
    const none = await h.interact(viewSubmission(U.admin, view, 'VRM2', choose('transfer')));
    expect(none.text).toContain('"response_action":"errors"');
    const viewer = await h.interact(viewSubmission(U.admin, view, 'VRM3', choose('transfer', U.viewer)));
    expect(viewer.text).toContain('"response_action":"errors"');
    expect(viewer.text).toContain('only its Admins and Developers can own keys');
    expect(await member(U.dev2)).toBe(1);
    expect((await key(k)).ownerId).toBe(U.dev2);
    const from = h.calls.length;
    await h.interact(viewSubmission(U.admin, view, 'VRM4', choose('transfer', U.org)));
    expect(String((await h.waitForResponse(responseUrl)).text)).toContain(`now belong to <@${U.org}>`);
    expect(await key(k)).toMatchObject({ status: 'active', ownerId: U.org });
    expect(await member(U.dev2)).toBe(0);
    const told = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.org}`);
    expect(text(told)).toContain(k);
  });

  it('a deactivated Slack user (user_change, deleted) loses keys and memberships; Admins are told; repeats change nothing', async () => {
    // sigma is made from the CLI (no creator membership): UGONE is its only Admin.
    await h.services.projects.create(cliActor((await h.t.db.org.findFirstOrThrow()).id, 'ops'), 'sigma');
    await h.ask('/project', `add sigma <@UGONE> admin`, U.org);
    await h.ask('/project', `add omega <@UGONE> developer`, U.org);
    const k1 = keyIdIn((await h.ask('/keys', 'create omega Gone One', 'UGONE')).text);
    const k2 = keyIdIn((await h.ask('/keys', 'create sigma Gone Two', 'UGONE')).text);
    const changes = await h.t.db.keyChange.count();
    const from = h.calls.length;
    const event = { type: 'user_change', user: { id: 'UGONE', team_id: 'T0TEST', deleted: true, name: 'gone' }, event_ts: '1.1' };
    expect(await h.event(event, 'EvGONE1')).toBe(200);
    await expect.poll(async () => (await key(k2)).status).toBe('revoked');
    expect((await key(k1)).status).toBe('revoked');
    expect(await h.t.db.keyChange.count()).toBeGreaterThanOrEqual(changes + 2);
    expect(await member('UGONE')).toBe(0);
    // omega's Admin hears about omega; sigma lost its last Admin, so the org admin hears about it.
    const toAdmin = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.admin}` && text(c).includes('UGONE'));
    expect(text(toAdmin)).toContain(k1);
    const toOrg = await h.waitForCall('chat.postMessage', from, (c) => c.body.channel === `D${U.org}` && text(c).includes('sigma'));
    expect(text(toOrg)).toContain('has no Admin now');
    const audits = await h.t.db.auditEvent.count();
    expect(await h.t.db.auditEvent.count({ where: { action: 'member.removed', targetId: 'UGONE', actor: 'system' } })).toBe(2);

    // Slack's retry (same event id), another user_change and a team_leave for the same user: nothing more.
    await h.idle(100);
    const dms = h.callsTo('chat.postMessage').length;
    expect(await h.event(event, 'EvGONE1')).toBe(200);
    expect(await h.event(event, 'EvGONE2')).toBe(200);
    expect(await h.event({ type: 'team_leave', user: { id: 'UGONE', team_id: 'T0TEST' } }, 'EvGONE3')).toBe(200);
    await h.idle(300);
    expect(h.callsTo('chat.postMessage').length).toBe(dms);
    expect(await h.t.db.auditEvent.count()).toBe(audits);
  });

  it('team_leave offboards too; a user_change that is not a deactivation changes nothing', async () => {
    await h.ask('/project', `add omega <@ULEFT> developer`, U.admin);
    const k = keyIdIn((await h.ask('/keys', 'create omega Left Behind', 'ULEFT')).text);
    expect(await h.event({ type: 'user_change', user: { id: 'ULEFT', team_id: 'T0TEST', deleted: false } })).toBe(200);
    await h.idle(300);
    expect((await key(k)).status).toBe('active');
    expect(await h.event({ type: 'team_leave', user: { id: 'ULEFT', team_id: 'T0TEST' } })).toBe(200);
    await expect.poll(async () => (await key(k)).status).toBe('revoked');
    expect(await member('ULEFT')).toBe(0);
    expect((await key(k)).revokeReason).toContain('left');
  });
});
