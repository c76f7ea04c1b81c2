import { mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDist } from '../scripts/build.mjs';
import { distIsCurrent } from '../scripts/dist-current.mjs';

// `npm start` builds before every start, possibly while other keyward processes run from dist/.
describe('the start-time build', () => {
  it('leaves unchanged files alone and repairs a changed one', async () => {
    // Into a folder of its own: other tests run servers and the CLI from dist/ meanwhile.
    const out = await buildDist(mkdtempSync(path.join(tmpdir(), 'kw-build-')));
    const main = path.join(out, 'main.js');
    const cli = path.join(out, 'cli', 'main.js');
    const before = statSync(main).mtimeMs;
    const good = readFileSync(cli, 'utf8');
    writeFileSync(cli, '// stale\n');

    await buildDist(out);
    expect(statSync(main).mtimeMs).toBe(before);
    expect(readFileSync(cli, 'utf8')).toBe(good);
    expect(good).toContain('export');
  });
});

// bin/keyward.js runs dist/ only when it is current, else the sources through tsx.
describe('distIsCurrent', () => {
  function tree() {
    const root = mkdtempSync(path.join(tmpdir(), 'kw-dist-'));
    const src = path.join(root, 'src');
    const out = path.join(root, 'dist');
    mkdirSync(path.join(src, 'cli'), { recursive: true });
    mkdirSync(path.join(out, 'cli'), { recursive: true });
    const at = (file: string, seconds: number) => {
      writeFileSync(file, '');
      utimesSync(file, seconds, seconds);
    };
    return { src, out, at };
  }

  it('is true when every source has an output at least as new', () => {
    const { src, out, at } = tree();
    at(path.join(src, 'cli', 'main.ts'), 1000);
    at(path.join(src, 'types.d.ts'), 5000); // declarations have no output
    at(path.join(out, 'cli', 'main.js'), 1000);
    expect(distIsCurrent(src, out)).toBe(true);
  });

  it('is false when a source is newer than its output, or has none', () => {
    const { src, out, at } = tree();
    at(path.join(src, 'cli', 'main.ts'), 2000);
    at(path.join(out, 'cli', 'main.js'), 1000);
    expect(distIsCurrent(src, out)).toBe(false);
    at(path.join(out, 'cli', 'main.js'), 3000);
    at(path.join(src, 'new.ts'), 1000);
    expect(distIsCurrent(src, out)).toBe(false);
    expect(distIsCurrent(path.join(src, 'missing'), out)).toBe(false);
  });
});
