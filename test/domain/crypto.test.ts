import { describe, expect, it } from 'vitest';
import { deriveKey, open, seal } from '../../src/domain/crypto.js';
import { newId, randomBase62 } from '../../src/domain/random.js';

const key = deriveKey('server-secret-for-tests-0123456789abcdef', 'pending-secret');

/** Flips one bit of one base64url part (decoded, so padding bits cannot hide the change). */
function tamper(sealed: string, part: 1 | 2 | 3): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('seal / open (AES-256-GCM)', () => {
  it.each(['sk-kw-' + 'a'.repeat(40), '', 'unicode 東京 🔑 "quotes"', 'x'.repeat(5000)])('round-trips %#', (text) => {
    expect(open(key, seal(key, text, 'rvl_1'), 'rvl_1')).toBe(text);
  });

  it('never shows the plaintext and uses a fresh IV each time', () => {
    const secret = 'sk-kw-' + 'Q'.repeat(40);
    const a = seal(key, secret, 'id');
    const b = seal(key, secret, 'id');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toContain('QQQQ');
    expect(Buffer.from(a.split('.')[3]!, 'base64url').toString('latin1')).not.toContain('QQQQ');
  });

  it.each([1, 2, 3] as const)('throws when part %i (iv, tag, body) was altered', (part) => {
    const sealed = seal(key, 'secret text', 'id');
    expect(() => open(key, tamper(sealed, part), 'id')).toThrow();
  });

  it('throws on a wrong aad, a wrong key, or a malformed text', () => {
    const sealed = seal(key, 'secret text', 'rvl_A');
    expect(() => open(key, sealed, 'rvl_B')).toThrow();
    expect(() => open(key, sealed)).toThrow();
    expect(() => open(deriveKey('server-secret-for-tests-0123456789abcdef', 'other'), sealed, 'rvl_A')).toThrow();
    expect(() => open(deriveKey('another-server-secret-0123456789abcdef', 'pending-secret'), sealed, 'rvl_A')).toThrow();
    expect(() => open(key, 'garbage', 'rvl_A')).toThrow();
    expect(() => open(key, sealed.replace(/^v1/, 'v2'), 'rvl_A')).toThrow();
    expect(() => open(key, sealed.split('.').slice(0, 3).join('.'), 'rvl_A')).toThrow();
  });

  it('derives 32-byte keys, stable per (secret, purpose) and distinct otherwise', () => {
    const s = 'server-secret-for-tests-0123456789abcdef';
    expect(deriveKey(s, 'p')).toHaveLength(32);
    expect(deriveKey(s, 'p').equals(deriveKey(s, 'p'))).toBe(true);
    expect(deriveKey(s, 'p').equals(deriveKey(s, 'q'))).toBe(false);
    expect(deriveKey(s, 'p').equals(deriveKey(s + '!', 'p'))).toBe(false);
  });
});

describe('randomBase62', () => {
  it('returns exactly the requested length from the base62 alphabet', () => {
    for (const n of [0, 1, 7, 40, 257]) {
      const s = randomBase62(n);
      expect(s).toHaveLength(n);
      expect(s).toMatch(/^[0-9A-Za-z]*$/);
    }
  });

  it('is uniform: chi-square over 62 symbols stays far from a modulo-biased draw', () => {
    const perSymbol = 2000;
    const counts = new Map<string, number>();
    const text = randomBase62(62 * perSymbol);
    for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    let chi = 0;
    for (const c of counts.values()) chi += (c - perSymbol) ** 2 / perSymbol;
    // 61 degrees of freedom: mean 61, p(chi > 130) < 1e-6. A plain `byte % 62` scores ~800.
    expect(chi).toBeLessThan(130);
  });

  it('ids carry their prefix', () => {
    expect(newId('evt')).toMatch(/^evt_[0-9A-Za-z]{16}$/);
    expect(newId('rvl', 24)).toMatch(/^rvl_[0-9A-Za-z]{24}$/);
  });
});
