import { pino, type Logger, type DestinationStream } from 'pino';

/** Anything that could carry a token or key is censored before it is written. */
export const REDACT_PATHS = [
  'secret', '*.secret', '*.*.secret',
  'token', '*.token', '*.*.token', 'botToken', '*.botToken',
  'apiKey', '*.apiKey', 'ANTHROPIC_API_KEY', 'KEYWARD_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'headers["x-api-key"]', 'req.headers["x-api-key"]', '*.headers["x-api-key"]',
  'headers.cookie', 'req.headers.cookie',
];

/** Masks key and token shapes inside free text (error messages, Slack payload dumps). */
export function scrubText(text: string): string {
  return text
    .replace(/sk-kw-[0-9A-Za-z]{8,}/g, 'sk-kw-[REDACTED]')
    .replace(/sk-ant-[0-9A-Za-z_-]{8,}/g, 'sk-ant-[REDACTED]')
    .replace(/xox[abprs]-[0-9A-Za-z-]{8,}/g, 'xox?-[REDACTED]')
    .replace(/xapp-[0-9A-Za-z-]{8,}/g, 'xapp-[REDACTED]');
}

/** Every finished log line passes through scrubText, whatever field (or error stack) carried the secret. */
function scrubbing(destination: DestinationStream): DestinationStream {
  return { write: (line: string) => destination.write(scrubText(line)) };
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: {
        // Last line of defence: a secret that reaches a message string is masked too.
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>);
        },
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    scrubbing(destination ?? pino.destination({ dest: 1, sync: true })),
  );
}
