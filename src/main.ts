// Composition root: config → database (migrated) → services → gateway + Slack → one HTTP server
// (and an optional second one for the gateway when GATEWAY_PORT is set).
import type { Server } from 'node:http';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { loadConfig, loadDotEnv, ConfigError, type Config } from './config/index.js';
import { migrate } from './db/migrate.js';
import { openDatabase } from './db/client.js';
import { createGateway } from './gateway/index.js';
import { createHttpServer } from './http/server.js';
import { createLogger } from './logger.js';
import { createServices } from './services/index.js';
import type { SlackApp } from './slack/app.js';

function readConfig(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`keyward: ${error.message}\nSee .env.example for every variable.\n`);
      process.exit(78);
    }
    throw error;
  }
}

/** The bot-token Web API client for a process that runs jobs but not the Slack receiver. */
async function slackClientFor(config: Config, logger: Logger): Promise<WebClient | null> {
  if (!config.slack.botToken) {
    logger.warn('SLACK_BOT_TOKEN is not set: scheduled jobs that post to Slack will skip');
    return null;
  }
  const [{ WebClient }, { DEFAULT_CLIENT_OPTIONS }] = await Promise.all([import('@slack/web-api'), import('./slack/app.js')]);
  return new WebClient(config.slack.botToken, { ...DEFAULT_CLIENT_OPTIONS, slackApiUrl: config.slack.apiUrl });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  loadDotEnv('.env', env);
  const config = readConfig(env);
  const logger = createLogger(config.logLevel);
  if (config.secretGenerated) {
    logger.warn(`KEYWARD_SECRET is not set: using a generated one kept in ${config.dataDir}/keyward.secret (set KEYWARD_SECRET in production)`);
  }

  const applied = await migrate(config.databaseUrl);
  const database = await openDatabase(config.databaseUrl);
  logger.info({ provider: database.provider, migrationsApplied: applied.length }, 'database ready');
  const services = createServices({
    db: database.db, secret: config.secret, logger, timezone: config.timezone,
    require2fa: config.require2fa, approvalTtlMs: config.approvalTtlHours * 3_600_000,
    webhookAllowPrivate: config.webhookAllowPrivate,
  });

  const { roles } = config;
  logger.info({ roles: [...roles] }, 'roles');
  const gateway = roles.has('gateway') ? createGateway({ db: database.db, provider: database.provider, config, logger }) : null;
  if (gateway && !config.anthropic.apiKey) logger.warn('ANTHROPIC_API_KEY is not set: the gateway authenticates keys but upstream calls will fail');

  let slack: SlackApp | null = null;
  if (!roles.has('bot')) {
    // Not this process's job (KEYWARD_ROLES); another process serves Slack.
  } else if (config.slack.missing.length > 0) {
    logger.warn(
      `Slack is not configured (missing ${config.slack.missing.join(', ')}): create the app from manifest.yml and set them; serving the gateway and health checks only`,
    );
  } else {
    // Loaded only by processes that serve Slack: a gateway-only process never pays for Bolt.
    const { createSlackApp } = await import('./slack/app.js');
    slack = createSlackApp({ config, services, logger });
  }

  // Not ready while the database does not answer or this gateway's usage accounting is behind.
  const ready = async () => {
    try {
      await database.db.$queryRawUnsafe('SELECT 1');
    } catch {
      return 'database unavailable';
    }
    return gateway?.health() ?? null;
  };
  const separateGateway = config.gateway.port !== undefined && config.gateway.port !== config.port;
  const timeouts = config.http;
  const server = createHttpServer({ logger, ready, timeouts, slack: slack?.requestListener, gateway: separateGateway ? undefined : (gateway ?? undefined) });
  const gatewayServer = separateGateway && gateway ? createHttpServer({ logger, ready, timeouts, gateway }) : null;

  // Signal handlers first: a SIGTERM during start-up still shuts down cleanly.
  let stopping = false;
  let scheduler: { stop(): Promise<void> } | null = null;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    await scheduler?.stop().catch((error: unknown) => logger.error({ err: error }, 'scheduler stop failed'));
    try {
      // Stop accepting, let in-flight gateway requests finish, flush usage, return budget leases.
      const closing = Promise.all([closeServer(server), gatewayServer ? closeServer(gatewayServer) : undefined]);
      await gateway?.stop();
      await slack?.stop();
      await closing;
      await database.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await gateway?.start();
  const port = await listen(server, config.port, config.host);
  logger.info({ port, slack: slack ? (config.slack.socketMode ? 'socket' : 'http') : 'off' }, `keyward listening on port ${port}`);
  if (gatewayServer) {
    const gatewayPort = await listen(gatewayServer, config.gateway.port!, config.host);
    logger.info({ port: gatewayPort }, `gateway listening on port ${gatewayPort}`);
  }
  if (slack) {
    // A Slack outage at start must not take the gateway down: log, keep serving, Bolt retries auth lazily.
    await slack.start().catch((error: unknown) => logger.error({ err: error }, 'Slack start failed; continuing without it'));
  }

  // Alerts, expiry, Reveal-button expiry, digests, reminders, statements: exactly once across
  // replicas through JobRun claims; jobs that need Slack skip (debug log) when it is not configured.
  // A usage flush that crosses a limit threshold triggers the alert evaluation right away.
  // Slack-less scheduler processes still need a client for jobs that post: one with the bot token.
  if (roles.has('scheduler')) {
    const { startScheduler } = await import('./jobs/index.js');
    const slackClient = slack?.client ?? (await slackClientFor(config, logger));
    if (!stopping) scheduler = startScheduler({ config, services, slackClient, usage: gateway?.internals.writer });
  }

  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

await main();
