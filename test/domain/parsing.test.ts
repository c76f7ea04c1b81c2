import { describe, expect, it } from 'vitest';
import { DAY, DEFAULT_GRACE_MS, HOUR, REVEAL_WINDOW_MS, parseDays, parseGrace } from '../../src/domain/durations.js';
import { echo } from '../../src/domain/errors.js';
import { parseDescription, parseProjectName } from '../../src/domain/projects.js';
import { LONG, label, refusal } from './helpers.js';

describe('parseProjectName', () => {
  it.each([
    ['ab', 'ab'], ['support-bot', 'support-bot'], ['  my-app-2  ', 'my-app-2'], ['0day', '0day'],
    ['a-', 'a-'], ['p'.repeat(40), 'p'.repeat(40)],
  ])('%j → %j', (raw, name) => expect(parseProjectName(raw)).toBe(name));

  it.each(
    ['', '   ', 'a', 'p'.repeat(41), LONG, 'Support-Bot', 'my_project', 'my project', 'ünïcode', '"quoted"', "it's",
      '--env', '-h', '-ab', '<#C123|general>', 'a.b', 'a/b']
      .map((raw) => ({ raw, l: label(raw) })),
  )('refuses $l with a short message', ({ raw }) => {
    const e = refusal(() => parseProjectName(raw));
    expect(e.message.length).toBeLessThan(200);
  });

  it('explains the rule and gives an example', () => {
    expect(refusal(() => parseProjectName('Bad Name')).message).toMatch(/2–40 lowercase letters.*support-bot/);
    expect(refusal(() => parseProjectName('')).message).toContain('support-bot');
  });
});

describe('parseDescription', () => {
  it('trims and keeps unicode and quotes', () => {
    expect(parseDescription('  Support "bot" — it\'s 東京  ')).toBe('Support "bot" — it\'s 東京');
    expect(parseDescription('')).toBe('');
    expect(parseDescription('d'.repeat(500))).toBe('d'.repeat(500));
  });
  it.each(['d'.repeat(501), LONG].map((raw) => ({ raw, l: label(raw) })))('refuses $l saying how long', ({ raw }) => {
    const e = refusal(() => parseDescription(raw));
    expect(e.message).toContain(String(raw.length));
    expect(e.message.length).toBeLessThan(200);
  });
});

describe('parseDays', () => {
  it.each([
    ['1d', 1], ['30d', 30], ['3650d', 3650], ['30D', 30], [' 7d ', 7], ['0030d', 30],
  ])('%j → %i days', (raw, days) => expect(parseDays(raw)).toBe(days * DAY));

  it.each(['', '0d', '3651d', '9999d', '99999d', '30', 'd', '-1d', '1.5d', '30 d', '30h', 'thirty', '３０d', LONG]
    .map((raw) => ({ raw, l: label(raw) })))('refuses $l with a short message', ({ raw }) => {
    const e = refusal(() => parseDays(raw));
    expect(e.message).toContain('--expires');
    expect(e.message.length).toBeLessThan(200);
  });

  it('names the flag it parses', () => {
    expect(refusal(() => parseDays('x', '--days')).message).toContain('--days');
  });
});

describe('parseGrace', () => {
  it.each([
    ['0h', 0], ['1h', HOUR], ['24h', 24 * HOUR], ['720h', 720 * HOUR], ['7d', 7 * DAY], ['30d', 30 * DAY],
    ['24H', 24 * HOUR], [' 2d ', 2 * DAY], ['0d', 0],
  ])('%j → %i ms', (raw, ms) => expect(parseGrace(raw)).toBe(ms));

  it.each(['', '24', 'h', '-1h', '1.5h', '24m', '721h', '31d', '9999d', 'forever', LONG].map((raw) => ({ raw, l: label(raw) })))(
    'refuses $l with a short message',
    ({ raw }) => {
      const e = refusal(() => parseGrace(raw));
      expect(e.message).toContain('--grace');
      expect(e.message.length).toBeLessThan(200);
    },
  );

  it('defaults: 24 h grace, 15 min reveal window', () => {
    expect(DEFAULT_GRACE_MS).toBe(24 * 3_600_000);
    expect(REVEAL_WINDOW_MS).toBe(15 * 60_000);
  });
});

describe('echo (user input inside messages)', () => {
  it('keeps short input and shortens long input', () => {
    expect(echo('  abc ')).toBe('abc');
    expect(echo(LONG)).toBe(`${'x'.repeat(40)}…`);
    expect(echo('abcdef', 3)).toBe('abc…');
  });
});
