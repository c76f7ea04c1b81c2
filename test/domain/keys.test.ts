import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ENVIRONMENTS, SCOPES, SECRET_PREFIX, SECRET_RANDOM_LENGTH, hashSecret, isKeyId, keyUsable, looksLikeSecret,
  newKeyId, newSecret, parseEnvironment, parseKeyName, parseScope, sameHash, scopeAllows, scopeFromDb,
  scopeToDb, scopesAllowing, secretHint, type GatewayCapability, type Scope,
} from '../../src/domain/keys.js';
import { LONG, label, refusal } from './helpers.js';

const BASE62 = /^[0-9A-Za-z]+$/;
const SERVER = 'server-secret-for-tests-0123456789abcdef';

describe('secret format', () => {
  it('is sk-kw- followed by at least 32 base62 characters carrying >= 190 bits', () => {
    const s = newSecret();
    expect(s.startsWith('sk-kw-')).toBe(true);
    expect(SECRET_PREFIX).toBe('sk-kw-');
    const body = s.slice('sk-kw-'.length);
    expect(body.length).toBeGreaterThanOrEqual(32);
    expect(body).toMatch(BASE62);
    expect(body.length * Math.log2(62)).toBeGreaterThanOrEqual(190);
    expect(SECRET_RANDOM_LENGTH).toBe(body.length);
  });

  it('never repeats over 20,000 draws and every draw matches the format', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const s = newSecret();
      expect(looksLikeSecret(s)).toBe(true);
      seen.add(s);
    }
    expect(seen.size).toBe(20_000);
  });

  it('key ids are key_<random> and unique', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => newKeyId()));
    expect(ids.size).toBe(5000);
    for (const id of [...ids].slice(0, 50)) {
      expect(id).toMatch(/^key_[0-9A-Za-z]{16}$/);
      expect(isKeyId(id)).toBe(true);
    }
  });

  it.each([
    ['sk-kw-' + 'a'.repeat(32), true],
    ['sk-kw-' + 'Z9'.repeat(64), true], // 128
    ['sk-kw-' + 'a'.repeat(31), false],
    ['sk-kw-' + 'a'.repeat(129), false],
    ['sk-kw-', false],
    ['', false],
    ['sk-ant-' + 'a'.repeat(40), false],
    ['SK-KW-' + 'a'.repeat(40), false],
    [' sk-kw-' + 'a'.repeat(40), false],
    ['sk-kw-' + 'a'.repeat(40) + '\n', false],
    ['sk-kw-' + 'a'.repeat(39) + '-', false],
    ['sk-kw-' + 'a'.repeat(39) + '_', false],
    ['sk-kw-' + 'a'.repeat(39) + 'é', false],
    ['Bearer sk-kw-' + 'a'.repeat(40), false],
  ])('looksLikeSecret(%j) → %s', (text, expected) => {
    expect(looksLikeSecret(text)).toBe(expected);
  });

  it.each([
    ['key_abcdEFGH', true], ['key_' + 'a'.repeat(64), true], ['key_abc', false], ['key_' + 'a'.repeat(65), false],
    ['KEY_abcdefgh', false], ['key-abcdefgh', false], ['key_abcd efgh', false], ['', false], ['sk-kw-' + 'a'.repeat(40), false],
  ])('isKeyId(%j) → %s', (text, expected) => expect(isKeyId(text)).toBe(expected));
});

describe('hashSecret', () => {
  it('is HMAC-SHA256 under the server secret, hex (RFC 4231 case 2)', () => {
    expect(hashSecret('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('matches node:crypto computed independently', () => {
    const secret = newSecret();
    expect(hashSecret(SERVER, secret)).toBe(createHmac('sha256', SERVER).update(secret, 'utf8').digest('hex'));
    expect(hashSecret(SERVER, secret)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('depends on the server secret and on the key secret', () => {
    const secret = newSecret();
    expect(hashSecret(SERVER, secret)).not.toBe(hashSecret(SERVER + 'x', secret));
    expect(hashSecret(SERVER, secret)).not.toBe(hashSecret(SERVER, newSecret()));
    expect(hashSecret(SERVER, secret)).not.toContain(secret.slice(6));
  });

  it('sameHash compares in constant time and refuses different lengths', () => {
    const h = hashSecret(SERVER, 'a');
    expect(sameHash(h, hashSecret(SERVER, 'a'))).toBe(true);
    expect(sameHash(h, hashSecret(SERVER, 'b'))).toBe(false);
    expect(sameHash(h, h.slice(0, 62))).toBe(false);
    expect(sameHash(h, '')).toBe(false);
  });
});

describe('secretHint', () => {
  it('shows the prefix and last four characters only', () => {
    const s = 'sk-kw-' + 'A'.repeat(36) + 'wxyz';
    expect(secretHint(s)).toBe('sk-kw-…wxyz');
    const fresh = newSecret();
    expect(secretHint(fresh)).toBe(`sk-kw-…${fresh.slice(-4)}`);
    expect(secretHint(fresh)).not.toContain(fresh.slice(6, -4));
  });
});

describe('parseKeyName', () => {
  it.each([
    ['Production App', 'Production App'],
    ['Local Dev', 'Local Dev'],
    ['a', 'a'],
    ['  Local    Dev  ', 'Local Dev'],
    ['tab\tand\nnewline', 'tab and newline'],
    ['v1.2_beta-3', 'v1.2_beta-3'],
    ['Café Ünïcode 東京', 'Café Ünïcode 東京'],
    ['n'.repeat(64), 'n'.repeat(64)],
  ])('%j → %j', (raw, name) => expect(parseKeyName(raw)).toBe(name));

  it.each(
    ['', '   ', 'n'.repeat(65), LONG, '"quoted"', "O'Brien", '`rm`', '<@U123>', 'a/b', 'key 🔑', 'semi;colon', 'x\u0000y', 'zero\u200Bwidth', 'rtl\u202Eoverride', 'bell\u0007']
      .map((raw) => ({ raw, l: label(raw) })),
  )('refuses $l with a short message', ({ raw }) => {
    const e = refusal(() => parseKeyName(raw));
    expect(e.message.length).toBeLessThan(200);
  });

  it('says how long a too-long name was', () => {
    expect(refusal(() => parseKeyName(LONG)).message).toContain('5000');
  });
});

describe('parseScope / parseEnvironment', () => {
  it.each([
    ['full', 'full'], ['inference', 'inference'], ['read-only', 'read-only'], ['READ_ONLY', 'read-only'],
    ['read_only', 'read-only'], [' Full ', 'full'],
  ])('scope %j → %s', (raw, scope) => expect(parseScope(raw)).toBe(scope));

  it.each(['', 'readonly', 'read-only-x', 'admin', 'ｆｕｌｌ', '"full"', LONG].map((raw) => ({ raw, l: label(raw) })))(
    'refuses scope $l naming the choices',
    ({ raw }) => {
      const e = refusal(() => parseScope(raw));
      expect(e.message).toContain('full, inference, read-only');
      expect(e.message.length).toBeLessThan(200);
    },
  );

  it.each([
    ['dev', 'dev'], ['staging', 'staging'], ['prod', 'prod'], ['PROD', 'prod'], ['development', 'dev'],
    ['production', 'prod'], ['stage', 'staging'], [' Dev ', 'dev'],
  ])('environment %j → %s', (raw, env) => expect(parseEnvironment(raw)).toBe(env));

  it.each(['', 'test', 'qa', 'prod;', "prod'", 'прод', LONG].map((raw) => ({ raw, l: label(raw) })))(
    'refuses environment $l naming the choices',
    ({ raw }) => {
      const e = refusal(() => parseEnvironment(raw));
      expect(e.message).toContain('dev, staging, prod');
      expect(e.message.length).toBeLessThan(200);
    },
  );

  it('scopes round-trip through their database form', () => {
    for (const s of SCOPES) expect(scopeFromDb(scopeToDb(s))).toBe(s);
    expect(scopeToDb('read-only')).toBe('read_only');
    expect(ENVIRONMENTS).toEqual(['dev', 'staging', 'prod']);
  });
});

describe('scopeAllows', () => {
  // Written out by hand: full = everything; inference = calls, no usage API; read-only = usage and models.
  const TABLE: Record<Scope, Record<GatewayCapability, boolean>> = {
    full: { messages: true, count_tokens: true, models: true, usage: true },
    inference: { messages: true, count_tokens: true, models: true, usage: false },
    'read-only': { messages: false, count_tokens: false, models: true, usage: true },
  };
  const cells = SCOPES.flatMap((s) =>
    (Object.keys(TABLE[s]) as GatewayCapability[]).map((c) => [s, c, TABLE[s][c]] as const),
  );
  it.each(cells)('%s may %s → %s', (scope, cap, allowed) => expect(scopeAllows(scope, cap)).toBe(allowed));

  it('names the scopes that allow a capability', () => {
    expect(scopesAllowing('messages')).toEqual(['full', 'inference']);
    expect(scopesAllowing('usage')).toEqual(['full', 'read-only']);
    expect(scopesAllowing('models')).toEqual(['full', 'inference', 'read-only']);
  });
});

describe('keyUsable', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);
  it.each([
    ['active, no expiry', { status: 'active', expiresAt: null }, true],
    ['active, expires later', { status: 'active', expiresAt: at(1) }, true],
    ['active, expires exactly now', { status: 'active', expiresAt: at(0) }, false],
    ['active, expired', { status: 'active', expiresAt: at(-1) }, false],
    ['revoked', { status: 'revoked', expiresAt: null }, false],
    ['revoked, future expiry', { status: 'revoked', expiresAt: at(60_000) }, false],
    ['expired status', { status: 'expired', expiresAt: null }, false],
  ] as const)('%s → %s', (_l, key, usable) => expect(keyUsable(key, now)).toBe(usable));
});
