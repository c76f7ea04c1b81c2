// Composition root: config → database (migrated) → services → one HTTP server (gateway, Slack, health).
import { loadConfig, loadDotEnv, ConfigError, type Config } from './config/index.js';
import { migrate } from './db/migrate.js';
import { openDatabase } from './db/client.js';
import { createHttpServer } from './http/server.js';
import { createLogger } from './logger.js';
import { createServices } from './services/index.js';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  loadDotEnv('.env', env);
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`keyward: ${error.message}\nSee .env.example for every variable.\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (config.secretGenerated) {
    logger.warn(`KEYWARD_SECRET is not set: using a generated one kept in ${config.dataDir}/keyward.secret (set KEYWARD_SECRET in production)`);
  }

  const applied = await migrate(config.databaseUrl);
  const database = openDatabase(config.databaseUrl);
  logger.info({ provider: database.provider, migrationsApplied: applied.length }, 'database ready');
  const services = createServices({ db: database.db, secret: config.secret, logger });
  void services;

  if (config.slack.missing.length > 0) {
    logger.warn(
      `Slack is not configured (missing ${config.slack.missing.join(', ')}): create the app from manifest.yml and set them; serving the gateway and health checks only`,
    );
  }

  const server = createHttpServer({
    logger,
    ready: async () => {
      await database.db.$queryRawUnsafe('SELECT 1');
      return true;
    },
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port }, `keyward listening on port ${port}`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

await main();
