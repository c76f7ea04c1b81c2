import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDist } from '../scripts/build.mjs';

// `npm start` builds before every start, possibly while other keyward processes run from dist/.
describe('the start-time build', () => {
  it('leaves unchanged files alone and repairs a changed one', async () => {
    const out = await buildDist();
    const main = path.join(out, 'main.js');
    const cli = path.join(out, 'cli', 'main.js'); // not loaded by servers other tests start
    const before = statSync(main).mtimeMs;
    const good = readFileSync(cli, 'utf8');
    writeFileSync(cli, '// stale\n');

    await buildDist();
    expect(statSync(main).mtimeMs).toBe(before);
    expect(readFileSync(cli, 'utf8')).toBe(good);
    expect(good).toContain('export');
  });
});
