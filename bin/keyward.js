#!/usr/bin/env node
// keyward CLI entry. The work happens in src/cli/main.ts: run from dist/ when the last build is
// current (starts in about half the time), else straight from the TypeScript sources through tsx.
import { fileURLToPath } from 'node:url';
import { distIsCurrent } from '../scripts/dist-current.mjs';

const at = (p) => fileURLToPath(new URL(p, import.meta.url));
let cli;
if (distIsCurrent(at('../src'), at('../dist'))) {
  cli = await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli/main.ts');
}
process.exitCode = await cli.main();
