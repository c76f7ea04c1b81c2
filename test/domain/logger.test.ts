import { describe, expect, it } from 'vitest';
import { createLogger, scrubText } from '../../src/logger.js';
import { newSecret } from '../../src/domain/keys.js';

function capture() {
  const lines: string[] = [];
  const logger = createLogger('trace', { write: (s: string) => void lines.push(s) });
  return { logger, text: () => lines.join('') };
}

// Token shapes assembled at run time so no literal token-like string sits in the repository.
const BOT = ['xoxb', '1234567890', '0987654321', 'AbCdEfGhIjKlMnOp'].join('-');
const APP = 'xapp-1-A0123-4567-abcdef0123456789';
const UPSTREAM = ['sk', 'ant', 'api03', 'AbCdEfGhIjKlMnOpQrStUv'].join('-');
const HEADER_VALUE = 'opaque-header-value-93f1c2';

describe('logger redaction', () => {
  it('masks secrets and tokens inside message strings and format arguments', () => {
    const { logger, text } = capture();
    const secret = newSecret();
    logger.info(`created ${secret} for U1`);
    logger.warn('token %s and %s', BOT, APP);
    logger.error(`upstream rejected ${UPSTREAM}`);
    logger.info({ keyId: 'key_1' }, `rotated; new secret ${secret}`);
    const out = text();
    for (const s of [secret, BOT, APP, UPSTREAM]) expect(out).not.toContain(s);
    expect(out).toContain('sk-kw-[REDACTED]');
    expect(out).toContain('key_1'); // ids stay readable
  });

  it('censors fields that carry secrets, tokens and credentials', () => {
    const { logger, text } = capture();
    const secret = newSecret();
    logger.info({ secret }, 'a');
    logger.info({ key: { secret } }, 'b');
    logger.info({ a: { b: { secret } } }, 'c');
    logger.info({ token: BOT, botToken: BOT, slack: { token: BOT, botToken: BOT } }, 'd');
    logger.info({ apiKey: UPSTREAM, upstream: { apiKey: UPSTREAM } }, 'e');
    logger.info({ KEYWARD_SECRET: 'k'.repeat(40), SLACK_BOT_TOKEN: BOT, SLACK_APP_TOKEN: APP, SLACK_SIGNING_SECRET: HEADER_VALUE }, 'f');
    const out = text();
    for (const s of [secret, BOT, UPSTREAM, APP, HEADER_VALUE, 'k'.repeat(40)]) expect(out).not.toContain(s);
    expect(out).toContain('[REDACTED]');
  });

  it('censors x-api-key, authorization and cookie headers', () => {
    const { logger, text } = capture();
    logger.info({ headers: { 'x-api-key': HEADER_VALUE, authorization: `Bearer ${HEADER_VALUE}`, cookie: HEADER_VALUE } }, 'in');
    logger.info({ req: { method: 'POST', headers: { 'x-api-key': HEADER_VALUE, authorization: HEADER_VALUE, cookie: HEADER_VALUE } } }, 'req');
    logger.info({ upstream: { headers: { 'x-api-key': HEADER_VALUE } } }, 'out');
    const out = text();
    expect(out).not.toContain(HEADER_VALUE);
    expect(out).toContain('POST');
  });

  it('scrubText masks every known token shape and leaves other text alone', () => {
    const secret = newSecret();
    expect(scrubText(`a ${secret} b ${BOT} c ${APP} d ${UPSTREAM}`)).toBe(
      'a sk-kw-[REDACTED] b xox?-[REDACTED] c xapp-[REDACTED] d sk-ant-[REDACTED]',
    );
    expect(scrubText('key_4fT9abcd sk-kw-…abcd plain')).toBe('key_4fT9abcd sk-kw-…abcd plain');
  });
});

describe('logger scrubs whole lines', () => {
  it('masks a secret in any field, nested header or error stack', () => {
    const lines: string[] = [];
    const logger = createLogger('trace', { write: (s: string) => void lines.push(s) });
    const secret = `sk-kw-${'A1b2C3d4'.repeat(5)}`;
    logger.info({ text: `pasted ${secret}` }, 'field');
    logger.info({ a: { b: { headers: { 'x-api-key': secret } } } }, 'deep header');
    logger.error({ err: new Error(`upstream said ${secret}`) }, 'error');
    const text = lines.join('');
    expect(lines).toHaveLength(3);
    expect(text).not.toContain(secret);
    expect(text).toContain('sk-kw-[REDACTED]');
  });
});
