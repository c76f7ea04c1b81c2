import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import { scrubText } from '../logger.js';

const text = (parts: unknown[]) =>
  scrubTotp(
    scrubText(
      parts
        .map((p) => (typeof p === 'string' ? p : p instanceof Error ? `${p.name}: ${p.message}` : safeJson(p)))
        .join(' '),
    ),
  );

/**
 * The two-factor enrollment modal's request body holds the TOTP secret: in the otpauth URI (also
 * URL-encoded) and grouped by four for typing (views/twofactor.ts). Neither shape is a key pattern
 * scrubText knows, so mask them here, where Slack request bodies are logged.
 */
export const scrubTotp = (line: string) =>
  line
    .replace(/(secret(?:=|%3D))[A-Z2-7]+/gi, '$1[redacted]')
    .replace(/\b(?:[A-Z2-7]{4} ){3,}[A-Z2-7]{1,4}\b/g, '[redacted]');

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Bolt and the WebClient log through pino (one stream, one redaction policy). Their debug output
 * includes request bodies, so it is only passed on at pino's `trace` level, and scrubbed.
 */
export function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: 'slack' });
  return {
    debug: (...m: unknown[]) => log.isLevelEnabled('trace') && log.trace(text(m)),
    info: (...m: unknown[]) => log.info(text(m)),
    warn: (...m: unknown[]) => log.warn(text(m)),
    error: (...m: unknown[]) => log.error(text(m)),
    // The level is pino's; Bolt's own setting is ignored.
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
