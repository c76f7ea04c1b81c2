import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SECRET } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/keyward.js', import.meta.url));

/** Runs the real executable in a folder of its own (no .env), against its own SQLite file. */
function keyward(args: string[], env: Record<string, string> = {}) {
  const cwd = mkdtempSync(path.join(tmpdir(), 'kw-bin-'));
  return new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(
      BIN, args,
      { cwd, env: { PATH: process.env.PATH!, KEYWARD_SECRET: SECRET, DATABASE_URL: `file:${path.join(cwd, 'kw.db')}`, ...env }, timeout: 30_000 },
      (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }),
    );
  });
}

describe('bin/keyward.js', () => {
  it('prints help and exits 0', async () => {
    const r = await keyward(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: keyward <command>');
    expect(r.err).toBe('');
  });

  it('runs a command against a temp SQLite file: migrates it, then prints JSON', async () => {
    const r = await keyward(['projects', 'list', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ projects: [] });
  });

  it('exits 2 on bad input with one line and no stack trace', async () => {
    const r = await keyward(['keys', 'create', 'alpha', 'x', '--scope', 'root']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe('keyward: Unknown scope "root". Use one of: full, inference, read-only. Run `keyward help keys create`.\n');
  });
});
