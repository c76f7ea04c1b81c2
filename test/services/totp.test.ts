import { inflateSync } from 'node:zlib';
import { generate } from 'otplib';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { openSecret, LOCKOUT_MS, type TotpRecord } from '../../src/domain/totp.js';
import type { AuditInput } from '../../src/services/audit.js';
import { cliActor, slackActor, type Actor } from '../../src/services/context.js';
import { MemoryTotpRepository, TotpService, renderQrPng } from '../../src/services/totp.js';

const SERVER = 'test-server-secret-0123456789abcdef';
const alice = slackActor('org_1', 'UALICE', false);
const admin = slackActor('org_1', 'UADMIN', true);

function setup(requireAll = false) {
  let clock = new Date('2026-03-02T10:00:10Z');
  const repo = new MemoryTotpRepository();
  const events: { actor: string; input: AuditInput }[] = [];
  const service = new TotpService({
    repo, secret: SERVER, requireAll, now: () => clock,
    audit: async (actor, _at, input) => void events.push({ actor: actor.id, input }),
  });
  const advance = (s: number) => (clock = new Date(clock.getTime() + s * 1000));
  const code = async (who: Actor = alice) => {
    const row = (await repo.get(who.orgId, who.userId!)) as TotpRecord;
    return generate({ secret: openSecret(SERVER, row), epoch: Math.floor(clock.getTime() / 1000) });
  };
  return { repo, service, events, advance, code, now: () => clock };
}

async function rejects(p: Promise<unknown>, code: string, text?: string) {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(DomainError);
  expect((e as DomainError).code).toBe(code);
  if (text) expect((e as DomainError).message).toContain(text);
  return e as DomainError;
}

async function enrolled(s: ReturnType<typeof setup>, who: Actor = alice) {
  await s.service.enroll(who);
  await s.service.verify(who, await s.code(who));
  s.advance(30); // the next step, so the test's next code is fresh
}

describe('TotpService enrollment', () => {
  it('enroll returns the URI, the grouped secret and a QR PNG; verify completes it', async () => {
    const s = setup();
    const e = await s.service.enroll(alice, 'alice (Acme)');
    expect(e.uri).toMatch(/^otpauth:\/\/totp\/keyward:alice%20\(Acme\)\?secret=[A-Z2-7]+&issuer=keyward$/);
    expect(e.manualSecret.replace(/ /g, '')).toBe(new URL(e.uri).searchParams.get('secret'));
    expect(e.png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    expect((await s.service.status(alice)).status).toBe('pending');
    expect(await s.service.requirement(alice)).toBe('none'); // pending does not protect anything yet
    await s.service.verify(alice, await s.code());
    expect(await s.service.status(alice)).toMatchObject({ status: 'active', stepUp: 'code', lockedUntil: null });
    expect(s.events.map((x) => x.input.action)).toEqual(['totp.enroll_started', 'totp.enrolled']);
  });
  it('audit entries never contain the secret or a code', async () => {
    const s = setup();
    const e = await s.service.enroll(alice);
    const code = await s.code();
    await rejects(s.service.verify(alice, code === '000001' ? '000002' : '000001'), 'forbidden');
    await s.service.verify(alice, code);
    const text = JSON.stringify(s.events);
    expect(text).not.toContain(e.manualSecret.replace(/ /g, ''));
    expect(text).not.toContain(code);
  });
  it('refuses to re-enroll while active, and verify when already active', async () => {
    const s = setup();
    await enrolled(s);
    await rejects(s.service.enroll(alice), 'conflict', '2fa disable');
    await rejects(s.service.verify(alice, await s.code()), 'conflict');
  });
  it('re-enrolling while pending replaces the secret: the old one stops working', async () => {
    const s = setup();
    await s.service.enroll(alice);
    const oldCode = await s.code();
    await s.service.enroll(alice);
    const newCode = await s.code();
    if (oldCode !== newCode) await rejects(s.service.verify(alice, oldCode), 'forbidden');
    await s.service.verify(alice, newCode);
  });
  it('is for Slack users only', async () => {
    const s = setup();
    await rejects(s.service.enroll(cliActor('org_1', 'root')), 'invalid');
    expect(await s.service.stepUp(cliActor('org_1', 'root'), null, 'key.revoke')).toBe('none');
  });
});

describe('TotpService step-up', () => {
  it('unenrolled users pass without a code unless the org requires 2FA', async () => {
    expect(await setup().service.stepUp(alice, null, 'key.revoke')).toBe('none');
    await rejects(setup(true).service.stepUp(alice, '123456', 'key.revoke'), 'forbidden', '2fa enroll');
  });
  it('enrolled users need a fresh, right code; a replay is refused', async () => {
    const s = setup();
    await enrolled(s);
    await rejects(s.service.stepUp(alice, '', 'key.revoke'), 'invalid', 'fresh code');
    await rejects(s.service.stepUp(alice, 'abc', 'key.revoke'), 'invalid', '6-digit');
    const code = await s.code();
    expect(await s.service.stepUp(alice, code, 'key.revoke')).toBe('verified');
    await rejects(s.service.stepUp(alice, code, 'approval.approve'), 'forbidden', 'already used');
    const audit = s.events.filter((x) => x.input.action.startsWith('totp.step_up') || x.input.action === 'totp.failed');
    expect(audit.map((x) => [x.input.action, x.input.details])).toEqual([
      ['totp.step_up', { purpose: 'key.revoke' }],
      ['totp.failed', { purpose: 'approval.approve', reason: 'replayed' }],
    ]);
  });
  it('two concurrent checks of one code: exactly one wins', async () => {
    const s = setup();
    await enrolled(s);
    const code = await s.code();
    const results = await Promise.allSettled([
      s.service.stepUp(alice, code, 'a'), s.service.stepUp(alice, code, 'b'), s.service.stepUp(alice, code, 'c'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });
  it('5 wrong codes lock step-up for 15 minutes, audited; then it works again', async () => {
    const s = setup();
    await enrolled(s);
    const good = await s.code();
    const wrong = good === '111111' ? '222222' : '111111';
    for (let i = 0; i < 4; i++) await rejects(s.service.stepUp(alice, wrong, 'key.rotate'), 'forbidden', 'wrong');
    await rejects(s.service.stepUp(alice, wrong, 'key.rotate'), 'limit', 'locked for 15 more minutes');
    await rejects(s.service.stepUp(alice, good, 'key.rotate'), 'limit');
    expect((await s.service.status(alice)).lockedUntil).toEqual(new Date(s.now().getTime() + LOCKOUT_MS));
    expect(s.events.filter((x) => x.input.action === 'totp.locked')).toHaveLength(1);
    s.advance(LOCKOUT_MS / 1000);
    expect(await s.service.stepUp(alice, await s.code(), 'key.rotate')).toBe('verified');
  });
});

describe('TotpService disable and reset', () => {
  it('disable needs a right code when active', async () => {
    const s = setup();
    await enrolled(s);
    await rejects(s.service.disable(alice, null), 'invalid');
    await s.service.disable(alice, await s.code());
    expect((await s.service.status(alice)).status).toBe('none');
    await rejects(s.service.disable(alice, null), 'not_found');
  });
  it('a pending enrollment is dropped without a code', async () => {
    const s = setup();
    await s.service.enroll(alice);
    await s.service.disable(alice, undefined);
    expect(await s.repo.get('org_1', 'UALICE')).toBeNull();
  });
  it('org admins reset others (with their own step-up when enrolled), never themselves', async () => {
    const s = setup();
    await enrolled(s);
    await rejects(s.service.adminReset(alice, 'UBOB'), 'forbidden', 'Only org admins');
    await rejects(s.service.adminReset(admin, 'UADMIN'), 'forbidden', 'disable');
    await enrolled(s, admin);
    await rejects(s.service.adminReset(admin, 'UALICE', null), 'invalid');
    await s.service.adminReset(admin, 'UALICE', await s.code(admin));
    expect(await s.repo.get('org_1', 'UALICE')).toBeNull();
    expect(s.events.at(-1)).toEqual({ actor: 'slack:UADMIN', input: { targetType: 'user', action: 'totp.reset', targetId: 'UALICE' } });
    s.advance(30);
    await rejects(s.service.adminReset(admin, 'UALICE', await s.code(admin)), 'not_found');
  });
});

/** Minimal PNG reader (8-bit grey/RGB/RGBA, non-interlaced): enough to read back the QR modules. */
function decodePng(png: Buffer) {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  let pos = 8;
  let width = 0, height = 0, colorType = 0, bitDepth = 0;
  const idat: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('ascii', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') [width, height, bitDepth, colorType] = [data.readUInt32BE(0), data.readUInt32BE(4), data[8]!, data[9]!];
    if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  expect(bitDepth).toBe(8);
  const bpp = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType]!;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= bpp ? out[y * stride + x - bpp]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][filter]!;
      out[y * stride + x] = (v + pred) & 0xff;
    }
  }
  return { width, height, dark: (x: number, y: number) => out[y * stride + x * bpp]! < 128 };
}

describe('QR PNG', () => {
  it('decodes to exactly the QR modules of the otpauth URI, with a quiet zone', async () => {
    const s = setup();
    const { uri, png } = await s.service.enroll(alice, 'alice');
    const img = decodePng(png);
    const qr = QRCode.create(uri, { errorCorrectionLevel: 'M' });
    const n = qr.modules.size;
    const scale = img.width / (n + 8);
    expect(img.width).toBe(img.height);
    expect(Number.isInteger(scale)).toBe(true);
    for (let r = -4; r < n + 4; r++) {
      for (let c = -4; c < n + 4; c++) {
        const expected = r >= 0 && c >= 0 && r < n && c < n && qr.modules.get(r, c) === 1;
        const px = (c + 4) * scale + (scale >> 1);
        const py = (r + 4) * scale + (scale >> 1);
        if (img.dark(px, py) !== expected) throw new Error(`module ${r},${c} differs`);
      }
    }
  });
  it('differs for a different URI (the check above is not vacuous)', async () => {
    const a = decodePng(await renderQrPng('otpauth://totp/keyward:a?secret=AAAA&issuer=keyward'));
    const qr = QRCode.create('otpauth://totp/keyward:b?secret=BBBB&issuer=keyward', { errorCorrectionLevel: 'M' });
    const n = qr.modules.size;
    const scale = a.width / (n + 8);
    let diff = 0;
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      if (a.dark((c + 4) * scale + 1, (r + 4) * scale + 1) !== (qr.modules.get(r, c) === 1)) diff++;
    }
    expect(diff).toBeGreaterThan(10);
  });
});
