#!/usr/bin/env node
// keyward CLI entry: TypeScript runs through tsx (no build step), the work happens in src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main();
