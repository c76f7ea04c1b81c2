// npm run bench:gateway — side by side on loopback: direct to a mock upstream, a bare node:http
// proxy (the floor), keyward's gateway, and @portkey-ai/gateway when installed.
// Reports added latency p50/p99 at a fixed rate and throughput at saturation, plus keyward's RSS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { cpuMsOf, fixedRate, load, memoryOf, startServer, type LoadResult, type Server } from './lib.js';
import { buildDist } from '../scripts/build.mjs';
import { startCommand } from '../scripts/start-command.mjs';
import { provisionKey } from './provision.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 1000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const root = path.resolve(import.meta.dirname, '..');
const body = JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] });

type Measured = { fixed: LoadResult & { lateP99: number }; saturation: LoadResult; cpuUsPerRequest?: number; rssMb?: number; peakMb?: number };

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  server?: Server;
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-bench-'));
  const servers: Server[] = [];
  try {
    const upstream = await startServer('upstream', process.execPath, ['bench/mock-upstream.mjs'], {}, /listening (\d+)/);
    servers.push(upstream);
    const base = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
    const targets: Target[] = [
      { name: 'direct', url: `http://127.0.0.1:${upstream.port}/v1/messages`, headers: { ...base, 'x-api-key': 'sk-ant-bench' } },
    ];

    const bare = await startServer('bare proxy', process.execPath, ['bench/bare-proxy.mjs', '0', String(upstream.port)], {}, /listening (\d+)/);
    servers.push(bare);
    targets.push({ name: 'bare node:http proxy', url: `http://127.0.0.1:${bare.port}/v1/messages`, headers: { ...base, 'x-api-key': 'sk-ant-bench' }, server: bare });

    const databaseUrl = `file:${path.join(dir, 'bench.db')}`;
    const secret = 'bench-secret-bench-secret-bench-secret-0123';
    const keySecret = await provisionKey(databaseUrl, secret);
    // KEYWARD_NODE_ARGS: extra node flags for keyward only (e.g. --cpu-prof, heap limits).
    const nodeArgs = (process.env.KEYWARD_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // Exactly what `npm start` runs: the build, then its command line from package.json.
    await buildDist();
    const start = startCommand();
    const keyward = await startServer('keyward', process.execPath, [...nodeArgs, ...start.args], {
      ...start.env,
      PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, KEYWARD_SECRET: secret, LOG_LEVEL: 'info',
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${upstream.port}`, ANTHROPIC_API_KEY: 'sk-ant-bench', DATA_DIR: dir,
    });
    servers.push(keyward);
    targets.push({ name: 'keyward', url: `http://127.0.0.1:${keyward.port}/v1/messages`, headers: { ...base, 'x-api-key': keySecret }, server: keyward });

    const portkey = await startPortkey(upstream.port);
    if (portkey) {
      servers.push(portkey);
      targets.push({
        name: '@portkey-ai/gateway', url: `http://127.0.0.1:${portkey.port}/v1/messages`, server: portkey,
        headers: { ...base, 'x-api-key': 'sk-ant-bench', 'x-portkey-provider': 'anthropic', 'x-portkey-custom-host': `http://127.0.0.1:${upstream.port}/v1` },
      });
    }

    const results: Record<string, Measured> = {};
    for (const t of targets) {
      await load({ url: t.url, headers: t.headers, body, seconds: 2, connections }); // warm-up (JIT, pools)
      const fixed = await fixedRate({ url: t.url, headers: t.headers, body, seconds, rate });
      const pid = t.server?.child.pid;
      const cpuBefore = pid ? cpuMsOf(pid) : 0;
      const saturation = await load({ url: t.url, headers: t.headers, body, seconds, connections });
      // CPU per request of the proxy itself: on a small machine it, the sender and the upstream share the cores.
      const cpuUsPerRequest = pid ? ((cpuMsOf(pid) - cpuBefore) * 1000) / saturation.requests : undefined;
      const mem = pid ? memoryOf(pid) : undefined;
      results[t.name] = { fixed, saturation, cpuUsPerRequest, ...(mem ?? {}) };
      process.stderr.write(`measured ${t.name}\n`);
    }
    report(results);
  } finally {
    for (const s of servers.reverse()) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startPortkey(upstreamPort: number): Promise<Server | null> {
  try {
    const entry = createRequire(import.meta.url).resolve('@portkey-ai/gateway/build/start-server.js');
    return await startServer('portkey', process.execPath, [entry, '--port', '0'], {}, /(?:port|:)\s*(\d{2,5})/i);
  } catch {
    void upstreamPort;
    return null;
  }
}

function report(results: Record<string, Measured>) {
  const direct = results.direct!;
  const bare = results['bare node:http proxy']!;
  const rows = Object.entries(results).map(([name, r]) => ({
    target: name,
    [`p50 @${rate}/s (ms)`]: r.fixed.p50.toFixed(3),
    [`p99 @${rate}/s (ms)`]: r.fixed.p99.toFixed(3),
    'added p50 (ms)': name === 'direct' ? '-' : (r.fixed.p50 - direct.fixed.p50).toFixed(3),
    'added p99 (ms)': name === 'direct' ? '-' : (r.fixed.p99 - direct.fixed.p99).toFixed(3),
    'saturation req/s': Math.round(r.saturation.rps),
    'p50/p99 @sat (ms)': `${r.saturation.p50.toFixed(1)}/${r.saturation.p99.toFixed(1)}`,
    'vs bare proxy': name === 'direct' ? '-' : (r.saturation.rps / bare.saturation.rps).toFixed(2),
    'CPU µs/req @sat': r.cpuUsPerRequest ? r.cpuUsPerRequest.toFixed(0) : '-',
    'RSS (MB)': r.rssMb ? r.rssMb.toFixed(0) : '-',
    errors: r.fixed.errors + r.saturation.errors + r.fixed.non2xx + r.saturation.non2xx,
  }));
  // How late the fixed-rate sender itself was (it sleeps between ticks): context for the p99 column.
  const late = Object.values(results).map((r) => r.fixed.lateP99);
  console.table(rows);
  console.log(`fixed-rate sender lateness p99: ${late.map((l) => l.toFixed(2)).join(' / ')} ms`);
  const summary = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    seconds, rate, connections, results,
  };
  const out = path.join(root, 'bench', 'results-gateway.json');
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify(summary));
  console.log(`written to ${path.relative(process.cwd(), out)}`);
}

await main();
