// npm run bench:verify — key verification in-process: parse, HMAC, cache lookup, scope and
// validity checks, as the gateway does per request (target >= 100k/s on a 2-core machine).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/db/client.js';
import { hashSecret, looksLikeSecret, newSecret, scopeAllows } from '../src/domain/keys.js';
import { KeyCache } from '../src/gateway/key-cache.js';
import { createLogger } from '../src/logger.js';
import { provisionKey } from './provision.js';

const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const iterations = Number(process.env.BENCH_ITERATIONS ?? 500_000);

const dir = mkdtempSync(path.join(tmpdir(), 'kw-verify-'));
const url = `file:${path.join(dir, 'verify.db')}`;
try {
  const good = await provisionKey(url, SECRET);
  const bad = newSecret();
  const database = await openDatabase(url);
  const cache = new KeyCache(database.db, createLogger('silent'), Date.now);
  await cache.load(hashSecret(SECRET, good));
  await cache.load(hashSecret(SECRET, bad)); // remembered as unknown

  const verify = (secret: string): boolean => {
    if (!looksLikeSecret(secret)) return false;
    const key = cache.peek(hashSecret(SECRET, secret));
    if (!key) return false;
    return key.active && key.usableUntil > Date.now() && scopeAllows(key.scope, 'messages');
  };

  for (let i = 0; i < 20_000; i++) verify(i % 10 ? good : bad); // warm-up
  const started = performance.now();
  let accepted = 0;
  for (let i = 0; i < iterations; i++) if (verify(i % 10 ? good : bad)) accepted++;
  const seconds = (performance.now() - started) / 1000;
  const perSecond = Math.round(iterations / seconds);
  if (accepted !== iterations - Math.ceil(iterations / 10)) throw new Error(`wrong answers: ${accepted} accepted`);
  console.table([{ iterations, seconds: seconds.toFixed(3), 'verifications/s': perSecond, target: 100_000, ok: perSecond >= 100_000 }]);
  console.log(JSON.stringify({ iterations, seconds, perSecond, node: process.version }));
  await database.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
