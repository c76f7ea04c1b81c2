// npm run bench:hard-limit — 200 concurrent requests through two gateway instances sharing one
// nearly exhausted budget. Checks that spend never passes the hard limit by more than one
// request's reservation. Uses DATABASE_URL when it is PostgreSQL, else a temporary SQLite file.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, isPostgresUrl } from '../src/config/index.js';
import { openDatabase } from '../src/db/client.js';
import { monthPeriod } from '../src/domain/periods.js';
import { createGateway } from '../src/gateway/index.js';
import { createLogger } from '../src/logger.js';
import { cliActor, createServices } from '../src/services/index.js';
import { projectLimitId } from '../src/services/limits.js';
import { orgForCli } from '../src/services/orgs.js';
import { provisionKey } from './provision.js';

const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const CONCURRENCY = 200;
const MAX_TOKENS = 200;
const model = 'claude-haiku-4-5';

const dir = mkdtempSync(path.join(tmpdir(), 'kw-hard-'));
// PostgreSQL: a scratch database on that server, dropped afterwards (never the one named in the URL).
const server = process.env.DATABASE_URL && isPostgresUrl(process.env.DATABASE_URL) ? process.env.DATABASE_URL : null;
const scratch = `kw_bench_${randomBytes(4).toString('hex')}`;
const url = server ? await createScratch(server, scratch) : `file:${path.join(dir, 'hard.db')}`;

async function createScratch(serverUrl: string, name: string) {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
const servers: http.Server[] = [];
const listen = (handler: http.RequestListener) => new Promise<string>((resolve) => {
  const s = http.createServer(handler);
  servers.push(s);
  s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`));
});

try {
  // The upstream spends every token it was allowed: real cost = the output part of the reservation.
  const upstream = await listen((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const maxTokens = (JSON.parse(body) as { max_tokens: number }).max_tokens;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'm', type: 'message', role: 'assistant', model, content: [], stop_reason: 'max_tokens', usage: { input_tokens: 20, output_tokens: maxTokens } }));
      }, 5);
    });
  });
  const keySecret = await provisionKey(url, SECRET, 'full');
  const database = await openDatabase(url);
  const logger = createLogger('silent');
  const services = createServices({ db: database.db, secret: SECRET, logger });
  const orgId = await orgForCli(database.db, new Date());
  const hardUsd = 0.02; // haiku 4.5: 200 output tokens = $0.001 → about 20 requests fit
  const view = await services.limits.set(cliActor(orgId, 'bench'), 'bench', [`hard=${hardUsd}`]);
  const config = loadConfig({ KEYWARD_SECRET: SECRET, ANTHROPIC_BASE_URL: upstream, ANTHROPIC_API_KEY: 'sk-ant-bench', DATABASE_URL: url }, { generateSecret: false });
  const gateways = [0, 1].map(() => createGateway({ db: database.db, provider: database.provider, config, logger }));
  const urls: string[] = [];
  for (const g of gateways) {
    await g.start();
    urls.push(await listen((req, res) => void g.handle(req, res)));
  }
  const body = JSON.stringify({ model, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'hi' }] });
  const statuses = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) =>
    fetch(`${urls[i % 2]}/v1/messages`, { method: 'POST', body, headers: { 'x-api-key': keySecret, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
      .then(async (r) => (await r.arrayBuffer(), r.status))));
  for (const g of gateways) await g.stop();
  const budget = await database.db.budget.findUniqueOrThrow({
    where: { limitId_period: { limitId: projectLimitId(view.projectId!), period: monthPeriod(new Date(), 'UTC').key } },
  });
  const hard = BigInt(Math.round(hardUsd * 1e6));
  const oneReservation = BigInt(Math.ceil(Buffer.byteLength(body) / 3) * 2 + MAX_TOKENS * 5); // haiku: $2/MTok 1h write, $5/MTok out
  const overshoot = budget.spentMicros - hard;
  const row = {
    database: database.provider, requests: CONCURRENCY,
    ok: statuses.filter((s) => s === 200).length, refused: statuses.filter((s) => s === 400).length,
    other: statuses.filter((s) => s !== 200 && s !== 400).length,
    'hard (µ$)': Number(hard), 'spent (µ$)': Number(budget.spentMicros), 'leased after stop (µ$)': Number(budget.leasedMicros),
    'overshoot (µ$)': Number(overshoot > 0n ? overshoot : 0n), 'one reservation (µ$)': Number(oneReservation),
    pass: overshoot <= oneReservation && budget.leasedMicros === 0n,
  };
  console.table([row]);
  console.log(JSON.stringify(row));
  await database.close();
  if (!row.pass) process.exitCode = 1;
} finally {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
  if (server) {
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
    await admin.end();
  }
}
