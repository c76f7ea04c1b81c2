import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * True when every `.ts` file under `src` has its `.js` under `out` written no earlier than the
 * source was (a source edited since the last build makes it false). About a millisecond.
 */
export function distIsCurrent(src, out) {
  try {
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      const built = statSync(path.join(out, file.replace(/\.ts$/, '.js')), { throwIfNoEntry: false });
      if (!built || built.mtimeMs < statSync(path.join(src, file)).mtimeMs) return false;
    }
    return true;
  } catch {
    return false;
  }
}
