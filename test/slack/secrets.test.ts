import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/domain/keys.js';
import { cliActor } from '../../src/services/index.js';
import { expireRevealButtons } from '../../src/slack/app.js';
import { usingPostgres } from '../helpers/db.js';
import { buttonClick, createHarness, U, type Harness, type SlackCall } from './harness.js';

const SECRET = /sk-kw-[0-9A-Za-z]{32,}/;
const keyIdIn = (text: string) => /key_[0-9A-Za-z]{8,}/.exec(text)?.[0] ?? '';

describe(`secret delivery (${usingPostgres() ? 'postgres' : 'sqlite'})`, () => {
  let h: Harness;
  /** Every secret minted in this file, checked against every sink at the end. */
  const secrets: string[] = [];

  beforeAll(async () => {
    h = await createHarness();
    await h.ask('/project', 'create vault', U.org);
    await h.ask('/project', `add vault <@${U.dev}> developer`, U.org);
    await h.ask('/project', `add vault <@${U.dev2}> developer`, U.org);
  });
  afterAll(async () => h?.close());

  /** Creates a key by slash command; returns its id, the secret from the DM and the Reveal button. */
  async function createKey(user: string, name: string) {
    const from = h.calls.length;
    const r = await h.ask('/keys', `create vault ${name}`, user);
    const keyId = keyIdIn(r.text);
    const eph = h.callsTo('chat.postEphemeral', from)[0]!;
    const secret = SECRET.exec(eph.body.text)![0];
    secrets.push(secret);
    const post = h.callsTo('chat.postMessage', from)[0]!;
    const button = post.body.blocks.flatMap((b: { elements?: unknown[] }) => b.elements ?? []).find((e: { action_id?: string }) => e.action_id === 'keyward_reveal');
    return { keyId, secret, from, eph, post, button: button as { action_id: string; value: string }, reply: r };
  }

  it('opens the DM, posts the secret ephemerally there, then a persisted Reveal message without it', async () => {
    const { keyId, secret, from, eph, post, button, reply } = await createKey(U.dev, 'Delivery');
    const sequence = h.calls.slice(from).map((c) => c.method).filter((m) => m !== 'users.info');
    expect(sequence).toEqual(['conversations.open', 'chat.postEphemeral', 'chat.postMessage']);
    expect(h.callsTo('conversations.open', from)[0]!.body.users).toBe(U.dev);
    expect(eph.body).toMatchObject({ channel: `D${U.dev}`, user: U.dev });
    expect(JSON.stringify(eph.body.blocks)).toContain(secret);
    expect(eph.body.text).toContain(keyId);
    expect(post.body.channel).toBe(`D${U.dev}`);
    expect(post.raw).not.toContain(secret);
    expect(post.body.text).toContain(keyId);
    expect(button.value).toMatch(/^rvl_/);
    expect(reply.text).toContain(keyId);
    // The stored hash is of exactly this secret; the pending copy is ciphertext bound to its Reveal id.
    const key = await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyId } });
    expect(key.secretHash).toBe(hashSecret(h.services.deps.secret, secret));
    const pending = await h.t.db.pendingSecret.findUniqueOrThrow({ where: { id: button.value } });
    expect(pending.ciphertext).toBeTruthy();
    expect(pending.ciphertext).not.toContain(secret.slice(6));
    expect(pending).toMatchObject({ channelId: `D${U.dev}`, messageTs: post.body.ts ?? pending.messageTs });
  });

  it('Reveal shows the secret once in a modal, then replaces the button; a double click gets nothing', async () => {
    const { keyId, secret, button } = await createKey(U.dev, 'Reveal Once');
    const from = h.calls.length;
    const click = buttonClick(U.dev, button, { channel: { id: `D${U.dev}` }, message: { ts: '1.0' } });
    expect((await h.interact(click)).status).toBe(200);
    const update = await h.waitForCall('views.update', from, (c) => JSON.stringify(c.body.view).includes(secret));
    const opened = h.callsTo('views.open', from)[0]!;
    expect(opened.body.trigger_id).toBe(click.trigger_id);
    expect(update.body.view_id).toBe(`V${/\d+/.exec(update.body.view_id)![0]}`);
    const replaced = await h.waitForCall('chat.update', from);
    expect(replaced.raw).not.toContain(secret);
    expect(replaced.body.text).toContain(keyId);
    expect(JSON.stringify(replaced.body.blocks)).not.toContain('keyward_reveal');
    const row = await h.t.db.pendingSecret.findUniqueOrThrow({ where: { id: button.value } });
    expect(row.ciphertext).toBeNull();
    expect(row.revealedAt).toBeInstanceOf(Date);

    const from2 = h.calls.length;
    await h.interact(buttonClick(U.dev, button));
    const second = await h.waitForCall('views.update', from2);
    expect(JSON.stringify(second.body.view)).toContain('already revealed');
    expect(second.raw).not.toContain(secret);
    expect(await h.t.db.auditEvent.count({ where: { action: 'key.secret_revealed', targetId: keyId } })).toBe(1);
  });

  it('only the owner can reveal', async () => {
    const { secret, button } = await createKey(U.dev, 'Not Yours');
    const from = h.calls.length;
    await h.interact(buttonClick(U.dev2, button));
    const update = await h.waitForCall('views.update', from);
    expect(JSON.stringify(update.body.view)).toContain('Only the person the key was created for');
    expect(update.raw).not.toContain(secret);
    expect((await h.t.db.pendingSecret.findUniqueOrThrow({ where: { id: button.value } })).ciphertext).toBeTruthy();
  });

  it('after 15 minutes the secret is erased and the button replaced; a late click is refused', async () => {
    const { keyId, button, post } = await createKey(U.dev2, 'Expiring');
    h.advance(16 * 60_000);
    const from = h.calls.length;
    expect(await expireRevealButtons(h.services, h.slack.client)).toBeGreaterThanOrEqual(1);
    const updates = h.callsTo('chat.update', from);
    const mine = updates.find((c) => c.body.text.includes(keyId))!;
    expect(mine.body).toMatchObject({ channel: `D${U.dev2}` });
    expect(mine.body.text).toContain('closed');
    const row = await h.t.db.pendingSecret.findUniqueOrThrow({ where: { id: button.value } });
    expect(row.ciphertext).toBeNull();
    expect(row.messageTs).toBeTruthy();
    expect(post.body.channel).toBe(`D${U.dev2}`);
    const from2 = h.calls.length;
    await h.interact(buttonClick(U.dev2, button));
    const late = await h.waitForCall('views.update', from2);
    expect(JSON.stringify(late.body.view)).toMatch(/already revealed or has expired/);
    expect(await expireRevealButtons(h.services, h.slack.client)).toBe(0);
  });

  it('a failed persisted DM revokes the new key and says so (no secret anywhere)', async () => {
    h.handlers.set('chat.postMessage', () => ({ ok: false, error: 'channel_not_found' }));
    try {
      const from = h.calls.length;
      const r = await h.ask('/keys', 'create vault Undeliverable', U.dev);
      const eph = h.callsTo('chat.postEphemeral', from)[0]!;
      secrets.push(SECRET.exec(eph.body.text)![0]);
      const keyId = keyIdIn(r.text);
      expect(r.text).toContain('could not deliver');
      expect(r.text).toContain('revoked');
      const key = await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyId } });
      expect(key).toMatchObject({ status: 'revoked', revokedBy: 'system' });
      const pending = await h.t.db.pendingSecret.findMany({ where: { keyId } });
      expect(pending.every((p) => p.ciphertext === null)).toBe(true);
    } finally {
      h.handlers.delete('chat.postMessage');
    }
  });

  it('a failed DM open revokes the new key before any secret is sent', async () => {
    h.handlers.set('conversations.open', () => ({ ok: false, error: 'cannot_dm_bot' }));
    try {
      const from = h.calls.length;
      const r = await h.ask('/keys', 'create vault No DM', U.dev);
      expect(r.text).toContain('revoked');
      expect(h.callsTo('chat.postEphemeral', from)).toHaveLength(0);
      expect((await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyIdIn(r.text) } })).status).toBe('revoked');
    } finally {
      h.handlers.delete('conversations.open');
    }
  });

  it('a failed delivery after rotation puts the previous secret back', async () => {
    const { keyId } = await createKey(U.dev, 'Rotate Fail');
    const before = await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyId } });
    h.handlers.set('chat.postMessage', () => ({ ok: false, error: 'fatal_error' }));
    try {
      const from = h.calls.length;
      const r = await h.ask('/keys', `rotate ${keyId}`, U.dev);
      secrets.push(SECRET.exec(h.callsTo('chat.postEphemeral', from)[0]!.body.text)![0]);
      expect(r.text).toContain('rotation');
      expect(r.text).toContain('undone');
      expect(r.text).toContain(keyId);
    } finally {
      h.handlers.delete('chat.postMessage');
    }
    const after = await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyId } });
    expect(after).toMatchObject({ status: 'active', secretHash: before.secretHash, hint: before.hint, prevSecretHash: null });
  });

  it("a rotation delivers the new secret to the key's owner; the rotator is told where it went, without it", async () => {
    const { keyId } = await createKey(U.dev, 'Owner Delivery');
    const from = h.calls.length;
    const r = await h.ask('/keys', `rotate ${keyId}`, U.org);
    expect(h.callsTo('conversations.open', from).map((c) => c.body.users)).toEqual([U.dev]);
    const eph = h.callsTo('chat.postEphemeral', from);
    expect(eph.map((c) => c.body.user)).toEqual([U.dev]);
    const secret = SECRET.exec(eph[0]!.body.text)![0];
    secrets.push(secret);
    expect((await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyId } })).secretHash).toBe(hashSecret(h.services.deps.secret, secret));
    expect(h.callsTo('chat.postMessage', from).every((c) => c.body.channel === `D${U.dev}`)).toBe(true);
    expect(JSON.stringify(r.body)).toContain(`<@${U.dev}>`);
    expect(JSON.stringify(r.body)).not.toMatch(SECRET);
  });

  it('a failed DM after a --grace 0h rotation puts the old secret back instead of revoking the key', async () => {
    const { keyId, secret: old } = await createKey(U.dev, 'Zero Grace');
    h.handlers.set('conversations.open', () => ({ ok: false, error: 'user_disabled' }));
    try {
      const r = await h.ask('/keys', `rotate ${keyId} --grace 0h`, U.dev);
      expect(r.text).toContain('undone');
      expect(r.text).toContain('previous secret still works');
    } finally {
      h.handlers.delete('conversations.open');
    }
    const after = await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyId } });
    expect(after).toMatchObject({ status: 'active', secretHash: hashSecret(h.services.deps.secret, old), revokedAt: null });
  });

  it('a key owned by a CLI user cannot be rotated from Slack (nobody there may receive its secret)', async () => {
    const orgId = (await h.t.db.org.findFirstOrThrow()).id;
    const made = await h.services.keys.create(cliActor(orgId, 'ops'), { project: 'vault', name: 'CLI Owned' });
    secrets.push(made.secret);
    const from = h.calls.length;
    const r = await h.ask('/keys', `rotate ${made.key.id}`, U.org);
    expect(r.text).toContain('keyward keys rotate');
    expect(h.callsTo('conversations.open', from)).toHaveLength(0);
    expect((await h.t.db.apiKey.findUniqueOrThrow({ where: { id: made.key.id } })).secretHash).toBe(hashSecret(h.services.deps.secret, made.secret));
  });

  it('an ephemeral that Slack refuses still leaves the Reveal message: the key is kept', async () => {
    h.handlers.set('chat.postEphemeral', () => ({ ok: false, error: 'user_not_in_channel' }));
    try {
      const from = h.calls.length;
      const r = await h.ask('/keys', 'create vault Reveal Only', U.dev2);
      const keyId = keyIdIn(r.text);
      expect(r.text).toContain('Created key');
      expect((await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyId } })).status).toBe('active');
      const button = h.callsTo('chat.postMessage', from)[0]!.body.blocks[1].elements[0];
      const at = h.calls.length;
      await h.interact(buttonClick(U.dev2, button));
      const shown = await h.waitForCall('views.update', at);
      const secret = SECRET.exec(JSON.stringify(shown.body.view))![0];
      secrets.push(secret);
      expect((await h.t.db.apiKey.findUniqueOrThrow({ where: { id: keyId } })).secretHash).toBe(hashSecret(h.services.deps.secret, secret));
    } finally {
      h.handlers.delete('chat.postEphemeral');
    }
  });

  it('the secrets appear only in the DM ephemeral and the reveal modal: not in other calls, answers, logs, audit or the database', async () => {
    await h.idle(200);
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    const allowed = (c: SlackCall, s: string) =>
      (c.method === 'chat.postEphemeral' && c.body.channel === `D${c.body.user}`) ||
      (c.method === 'views.update' && JSON.stringify(c.body.view).includes('Shown once'));
    for (const s of secrets) {
      for (const c of h.calls) if (c.raw.includes(s)) expect(allowed(c, s), `${c.method} carried a secret`).toBe(true);
      for (const r of h.responses) expect(r.raw).not.toContain(s);
      for (const line of h.logs) expect(line).not.toContain(s);
      expect(h.logs.join('')).not.toMatch(SECRET);
    }
    const audit = JSON.stringify(await h.t.db.auditEvent.findMany());
    const pending = JSON.stringify(await h.t.db.pendingSecret.findMany());
    const keys = JSON.stringify(await h.t.db.apiKey.findMany());
    for (const s of secrets) for (const dump of [audit, pending, keys]) expect(dump).not.toContain(s);
    if (h.t.file) {
      // The raw SQLite bytes, including the write-ahead log.
      const files = [h.t.file, `${h.t.file}-wal`].filter((f) => existsSync(f));
      for (const f of files) {
        const bytes = readFileSync(f);
        for (const s of secrets) expect(bytes.includes(Buffer.from(s)), `${f} holds a secret`).toBe(false);
        for (const s of secrets) expect(bytes.includes(Buffer.from(s.slice(6, 30))), `${f} holds part of a secret`).toBe(false);
      }
    }
    // The logs did see the secret-carrying request bodies, masked (so the scan above was not vacuous).
    expect(h.logs.some((l) => l.includes('sk-kw-[REDACTED]'))).toBe(true);
    expect(h.logs.some((l) => l.includes('chat.postEphemeral') || l.includes('postEphemeral'))).toBe(true);
  });
});
