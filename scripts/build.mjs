// Compiles src/ to plain JavaScript in dist/ (same layout, so paths like ../../config still resolve).
// `npm start` runs the output: no TypeScript loader thread in production (≈40 MB less, faster start).
// Transpile only (esbuild, ~0.5 s); type checking is `npm run typecheck`.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const out = path.join(root, 'dist');

export async function buildDist() {
  const entryPoints = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(src, f));
  rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints, outdir: out, outbase: src, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning',
  });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildDist();
