/**
 * The Slack control plane: a Bolt App wired to the services. HTTP mode exposes the receiver's
 * request listener for the process's single HTTP server; Socket Mode connects on start().
 */
import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, SocketModeReceiver, type AuthorizeResult } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Services } from '../services/index.js';
import { adminCheckOfRequest, AdminResolver } from './admins.js';
import { boltLogger } from './bolt-logger.js';
import { describeError, withTenant, type SlackDeps } from './context.js';
import { tenantOf, type Installation } from '../domain/tenancy.js';
import { registerHome } from './handlers/home.js';
import { registerKeysCommand } from './handlers/keys.js';
import { registerKeywardCommand } from './handlers/keyward.js';
import { registerModals } from './handlers/modals.js';
import { registerOffboarding } from './handlers/offboarding.js';
import { registerProjectCommand } from './handlers/project.js';
import { registerReveal } from './handlers/reveal.js';
import { registerApprovals } from './handlers/approvals.js';
import { registerStepUp } from './stepup.js';
import { registerTwoFactor, reportRepeatedLockouts } from './handlers/twofactor.js';
import { registerReviews } from './handlers/reviews.js';
import { registerLimits } from './handlers/limits.js';
import { configureJobRun } from './handlers/run.js';
import { registerUsage } from './handlers/usage.js';

export { expireRevealButtons } from './delivery.js';

export const NOT_SERVED = 'keyward does not serve this Slack workspace. Ask whoever runs keyward to add its team id to SLACK_TEAM_IDS if it should.';

export interface SlackAppOptions {
  config: Config;
  services: Services;
  logger: Logger;
  now?: () => Date;
  clientOptions?: WebClientOptions;
}

export interface SlackApp {
  app: App;
  /** HTTP mode: mount on `/slack/*` (answers 404 for other paths). Socket Mode: null. */
  requestListener: RequestListener | null;
  /** Checks the bot token once (auth.test); in Socket Mode also connects. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A WebClient with the bot token and the same options, for jobs (e.g. expireRevealButtons). */
  client: WebClient;
}

/** Production defaults: a bounded timeout and a few quick retries instead of web-api's 30 minutes. */
export const DEFAULT_CLIENT_OPTIONS: WebClientOptions = {
  timeout: 10_000,
  retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 3_000 },
};

export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const { config, services, logger } = opts;
  const botToken = config.slack.botToken;
  if (!botToken) throw new Error('SLACK_BOT_TOKEN is not set: the Slack app cannot start (see manifest.yml and README).');
  const now = opts.now ?? services.deps.now ?? (() => new Date());
  const log = boltLogger(logger);
  const clientOptions: WebClientOptions = { ...DEFAULT_CLIENT_OPTIONS, ...opts.clientOptions, slackApiUrl: config.slack.apiUrl };
  const client = new WebClient(botToken, { ...clientOptions, logger: log });

  // auth.test once (at start or first request), then cached: Bolt never calls it per request.
  // It also names the installed team or enterprise, which the workspace gate below serves.
  let auth: Promise<AuthorizeResult & { installation: Installation }> | null = null;
  const authorize = () => {
    auth ??= client.auth.test().then(
      (r) => ({
        botToken, botId: r.bot_id, botUserId: r.user_id,
        installation: { teamId: r.team_id ?? null, enterpriseId: r.enterprise_id ?? null, enterpriseInstall: r.is_enterprise_install === true },
      }),
      (error) => {
        auth = null;
        throw error;
      },
    );
    return auth;
  };

  let receiver: HTTPReceiver | SocketModeReceiver;
  let requestListener: RequestListener | null = null;
  if (config.slack.appToken) {
    receiver = new SocketModeReceiver({
      appToken: config.slack.appToken,
      logger: log,
      installerOptions: { clientOptions: { slackApiUrl: config.slack.apiUrl } },
    });
  } else {
    if (!config.slack.signingSecret) throw new Error('SLACK_SIGNING_SECRET is not set: HTTP mode needs it (or set SLACK_APP_TOKEN for Socket Mode).');
    const http = new HTTPReceiver({ signingSecret: config.slack.signingSecret, endpoints: '/slack/events', logger: log });
    requestListener = (req, res) => {
      try {
        http.requestListener(req, res);
      } catch {
        // Bolt throws for paths it does not serve; the caller mounted us on /slack/*.
        if (!res.headersSent) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    };
    receiver = http;
  }

  // A fresh object per request: Bolt writes the request's team and enterprise ids into it, and a
  // shared one would carry the first request's team into every later request's context.
  const boltAuthorize = async () => {
    const { installation: _installation, ...result } = await authorize();
    return { ...result };
  };
  const app = new App({ receiver, authorize: boltAuthorize, logger: log, clientOptions: { ...clientOptions } });
  const deps: SlackDeps = { services, logger, now, admins: new AdminResolver(services.deps.db, config.admins, logger, now) };

  // The workspace gate, first: only the installed team or enterprise and SLACK_TEAM_IDS are served.
  // Anything else is refused before any row is written (no org, no event record).
  app.use(async ({ context, body, ack, next }) => {
    const { installation } = await authorize();
    const tenant = tenantOf(installation, config.slack.teamIds, { teamId: context.teamId, enterpriseId: context.enterpriseId });
    if (!tenant) {
      logger.warn({ teamId: context.teamId, enterpriseId: context.enterpriseId }, 'Slack request from a workspace keyward does not serve; refused');
      const isCommand = typeof (body as { command?: unknown }).command === 'string';
      // Events were acknowledged by Bolt already (ack is absent); other requests get an empty ack.
      const answer = ack as ((response?: unknown) => Promise<void>) | undefined;
      if (answer) await (isCommand ? answer({ response_type: 'ephemeral', text: NOT_SERVED }) : answer());
      return;
    }
    await withTenant(tenant, next);
  });

  // Each request runs with its own admin-check state (explain() reads it when refusing).
  app.use(({ next }) => adminCheckOfRequest.run({ unconfirmed: false }, next));

  // Events API retries (and replays) are dropped by event_id, across processes via the database.
  app.use(async ({ body, next }) => {
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string') {
      try {
        await services.deps.db.idempotencyRecord.create({ data: { key: `slack:event:${eventId}`, result: '{}', createdAt: now() } });
      } catch (error) {
        if (isUniqueViolation(error)) return;
        logger.warn({ error: describeError(error) }, 'event dedupe failed; handling the event anyway');
      }
    }
    await next();
  });

  registerProjectCommand(app, deps);
  registerKeysCommand(app, deps);
  registerKeywardCommand(app, deps);
  registerModals(app, deps);
  registerReveal(app, deps);
  registerHome(app, deps);
  registerApprovals(app, deps);
  registerStepUp(app, deps);
  registerReviews(app, deps);
  registerLimits(app, deps);
  registerUsage(app, deps);
  registerOffboarding(app, deps);
  configureJobRun(deps, config);
  registerTwoFactor(app, deps);
  reportRepeatedLockouts(deps, client);
  app.error(async (error) => {
    logger.error({ error: describeError(error) }, 'unhandled Slack error');
  });

  return {
    app,
    requestListener,
    client,
    async start() {
      try {
        await authorize();
      } catch (error) {
        if (config.slack.appToken) throw error;
        // HTTP mode keeps serving; authorize() retries on the next request.
        logger.error({ error: describeError(error) }, 'Slack auth.test failed; check SLACK_BOT_TOKEN');
      }
      if (receiver instanceof SocketModeReceiver) await receiver.start();
    },
    async stop() {
      if (receiver instanceof SocketModeReceiver) await receiver.stop();
    },
  };
}
