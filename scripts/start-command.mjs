import { readFileSync } from 'node:fs';

/**
 * package.json's `start` script as a command line: leading NAME=value words are environment, then
 * `node` and its arguments. The server-process tests and bench:gateway run exactly this.
 */
export function startCommand(packageJsonPath = new URL('../package.json', import.meta.url)) {
  const script = JSON.parse(readFileSync(packageJsonPath, 'utf8')).scripts.start;
  const words = script.split(/\s+/).filter(Boolean);
  const env = {};
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [name, ...value] = words.shift().split('=');
    env[name] = value.join('=');
  }
  if (words.shift() !== 'node') throw new Error(`cannot run the start script "${script}"`);
  return { env, args: words };
}
