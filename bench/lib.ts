// Helpers shared by the benchmark scripts: child servers on loopback and an open-loop load run.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface Server {
  name: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns a server and waits for the line that names its port. */
export async function startServer(
  name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}, portPattern = /listening (?:on port )?(\d+)/,
): Promise<Server> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = portPattern.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${name} exited ${code}: ${output}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    name, port, child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }),
  };
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Runs autocannon; latency percentiles come from its float per-response times (its own histogram is whole ms). */
export async function load(opts: {
  url: string; headers: Record<string, string>; body: string; seconds: number; connections: number; rate?: number;
}): Promise<LoadResult> {
  const samples: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url, method: 'POST', headers: opts.headers, body: opts.body,
        connections: opts.connections, duration: opts.seconds, overallRate: opts.rate,
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status < 300) samples.push(responseTime);
    });
  });
  samples.sort((a, b) => a - b);
  return {
    requests: result.requests.total,
    rps: result.requests.total / opts.seconds,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** The p-quantile of ascending `xs` (NaN when empty). */
const percentile = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]! : NaN);

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident and peak resident memory of a process, in MB (Linux /proc). */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/**
 * Open-loop load at a fixed rate: requests leave on schedule whether or not earlier ones have
 * answered, so a slow server cannot slow the sender. The sender sleeps between ticks (a busy loop
 * would take one of a small machine's cores from the servers under test) and sends whatever is due
 * at each tick; latency runs from the moment a request is issued (agent queueing included) to the
 * end of its response, with sub-millisecond precision. `lateP99` is how late the sender itself was.
 */
export async function fixedRate(opts: {
  url: string; headers: Record<string, string>; body: string; seconds: number; rate: number;
}): Promise<LoadResult & { lateP99: number }> {
  const { default: http } = await import('node:http');
  const target = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const headers = { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)) };
  const total = Math.round(opts.seconds * opts.rate);
  const intervalNs = 1e9 / opts.rate;
  const samples: number[] = [];
  const lateness: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let done = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    let sent = 0;
    const send = () => {
      const issued = process.hrtime.bigint();
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            if ((res.statusCode ?? 500) < 300) samples.push(Number(process.hrtime.bigint() - issued) / 1e6);
            else non2xx++;
            if (++done === total) resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        if (++done === total) resolve();
      });
      req.end(opts.body);
    };
    const tick = () => {
      const now = process.hrtime.bigint();
      while (sent < total) {
        const due = start + BigInt(Math.round(sent * intervalNs));
        if (due > now) break;
        lateness.push(Number(now - due) / 1e6);
        send();
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  samples.sort((a, b) => a - b);
  lateness.sort((a, b) => a - b);
  return {
    requests: total, rps: total / opts.seconds, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), errors, non2xx,
    lateP99: percentile(lateness, 0.99),
  };
}
