#!/usr/bin/env node
// Fails when prisma/models.prisma has changes that no migration captures (CI drift check).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

let drift = false;
for (const provider of ['sqlite', 'postgres']) {
  const result = spawnSync(
    'npx',
    ['prisma', 'migrate', 'diff', '--config', `prisma/${provider}.config.ts`,
      '--from-migrations', path.join('prisma', provider, 'migrations'),
      '--to-schema-datamodel', path.join('prisma', provider), '--exit-code'],
    { encoding: 'utf8' },
  );
  if (result.status === 0) console.log(`${provider}: migrations match the schema`);
  else {
    drift = true;
    console.error(`${provider}: the schema differs from the migrations (run npm run db:migration -- <name>)`);
    console.error(result.stdout, result.stderr);
  }
}
process.exit(drift ? 1 : 0);
