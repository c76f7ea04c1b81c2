import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REVEAL_WINDOW_MS } from '../../src/domain/durations.js';
import { DomainError } from '../../src/domain/errors.js';
import { seedProject, serviceWorld } from './setup.js';

const w = serviceWorld();
let team: Awaited<ReturnType<typeof seedProject>>;

/** Every byte the database holds: the SQLite file and its WAL, or all PostgreSQL rows as text. */
async function databaseText(): Promise<string> {
  if (w.t.file) {
    return [w.t.file, `${w.t.file}-wal`, `${w.t.file}-journal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');
  }
  const tables = await w.db.$queryRawUnsafe<{ table_name: string }[]>(
    "SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = 'public'",
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const rows = await w.db.$queryRawUnsafe<{ t: string }[]>(`SELECT t::text AS t FROM "${table_name}" t`);
    parts.push(...rows.map((r) => r.t));
  }
  return parts.join('\n');
}

async function fresh(name: string) {
  const k = await w.s.keys.create(team.dev, { project: 'pend', name });
  const stash = await w.s.pendingSecrets.stash(k.key.id, 'UDEV', k.secret);
  return { ...k, stash };
}

async function codeOf(p: Promise<unknown>) {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(DomainError);
  return e as DomainError;
}

describe('pending secrets', () => {
  it('stash → reveal exactly once, to the owner; audited without the secret', async () => {
    team = await seedProject(w, 'pend');
    const k = await fresh('Reveal Once');
    expect(k.stash.expiresAt.getTime()).toBe(w.clock.getTime() + REVEAL_WINDOW_MS);
    await w.s.pendingSecrets.attachMessage(k.stash.id, 'D123', '1700000000.000100');
    const wrong = await codeOf(w.s.pendingSecrets.reveal(team.admin, k.stash.id));
    expect(wrong.code).toBe('forbidden');
    const got = await w.s.pendingSecrets.reveal(team.dev, k.stash.id);
    expect(got).toEqual({ keyId: k.key.id, secret: k.secret, channelId: 'D123', messageTs: '1700000000.000100' });
    const again = await codeOf(w.s.pendingSecrets.reveal(team.dev, k.stash.id));
    expect(again.message).toMatch(/already revealed/);
    expect(again.message).toContain(`/keys rotate ${k.key.id}`);
    const row = await w.db.pendingSecret.findUniqueOrThrow({ where: { id: k.stash.id } });
    expect(row.ciphertext).toBeNull();
    expect(row.revealedAt).not.toBeNull();
    const ev = await w.db.auditEvent.findMany({ where: { action: 'key.secret_revealed', targetId: k.key.id } });
    expect(ev).toHaveLength(1);
    expect(ev[0]!.actor).toBe('slack:UDEV');
  });

  it('unknown ids are not found', async () => {
    expect((await codeOf(w.s.pendingSecrets.reveal(team.dev, 'rvl_nope'))).code).toBe('not_found');
  });

  it('two concurrent clicks reveal once', async () => {
    const k = await fresh('Double Reveal');
    const rs = await Promise.allSettled([1, 2].map(() => w.s.pendingSecrets.reveal(team.dev, k.stash.id)));
    expect(rs.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('expires 15 minutes after the stash (by the service clock) and is erased', async () => {
    const k = await fresh('Expires');
    w.advance(REVEAL_WINDOW_MS - 1);
    const early = await fresh('Still Valid');
    w.advance(1); // exactly 15 min after the first stash
    const e = await codeOf(w.s.pendingSecrets.reveal(team.dev, k.stash.id));
    expect(e.message).toMatch(/15-minute/);
    const row = await w.db.pendingSecret.findUniqueOrThrow({ where: { id: k.stash.id } });
    expect(row).toMatchObject({ ciphertext: null, revealedAt: null });
    expect(row.erasedAt!.getTime()).toBe(w.clock.getTime());
    expect((await w.s.pendingSecrets.reveal(team.dev, early.stash.id)).secret).toBe(early.secret);
  });

  it('sweepExpired erases every secret past its window once and returns them', async () => {
    const a = await fresh('Sweep A');
    const b = await fresh('Sweep B');
    w.advance(5 * 60_000);
    const c = await fresh('Sweep C');
    expect(await w.s.pendingSecrets.sweepExpired()).toEqual([]);
    w.advance(10 * 60_000);
    const swept = (await w.s.pendingSecrets.sweepExpired()).map((r) => r.id);
    expect(swept).toEqual(expect.arrayContaining([a.stash.id, b.stash.id]));
    expect(swept).not.toContain(c.stash.id);
    expect(await w.s.pendingSecrets.sweepExpired()).toEqual([]);
    for (const id of [a.stash.id, b.stash.id]) {
      expect((await w.db.pendingSecret.findUniqueOrThrow({ where: { id } })).ciphertext).toBeNull();
    }
    expect((await w.s.pendingSecrets.reveal(team.dev, c.stash.id)).secret).toBe(c.secret);
  });

  it('a revoked key has nothing to reveal, and its ciphertext is erased', async () => {
    const k = await fresh('Revoked Before Reveal');
    await w.s.keys.revoke(team.dev, k.key.id);
    const e = await codeOf(w.s.pendingSecrets.reveal(team.dev, k.stash.id));
    expect(e.code).toBe('invalid');
    expect((await w.db.pendingSecret.findUniqueOrThrow({ where: { id: k.stash.id } })).ciphertext).toBeNull();
  });

  it('discard erases at once', async () => {
    const k = await fresh('Discard');
    await w.s.pendingSecrets.discard(k.stash.id);
    expect((await codeOf(w.s.pendingSecrets.reveal(team.dev, k.stash.id))).code).toBe('invalid');
  });

  it('the database never holds a secret in plain text (stashed, revealed, rotated)', async () => {
    const pending = await fresh('Plain Check');
    const revealed = await fresh('Plain Check 2');
    await w.s.pendingSecrets.reveal(team.dev, revealed.stash.id);
    const rotated = await w.s.keys.rotate(team.dev, pending.key.id);
    await w.s.pendingSecrets.stash(pending.key.id, 'UDEV', rotated.secret);
    const text = await databaseText();
    expect(text.length).toBeGreaterThan(1000);
    expect(text).toContain(pending.key.id); // the scan does see the data
    for (const s of [pending.secret, revealed.secret, rotated.secret]) {
      expect(text).not.toContain(s);
      expect(text).not.toContain(s.slice(6, 30));
    }
  });
});
