import type { Config } from '../config/index.js';
import type { Db } from '../db/client.js';
import type { Actor, Services } from '../services/index.js';
import type { FlagName, Tokens } from './args.js';

export interface Out {
  write(chunk: string): unknown;
}

/** What every command runs with. `print` is for people, `emit` for machines (with --json). */
export interface BaseCtx {
  /** The environment after `.env` was merged in. */
  env: NodeJS.ProcessEnv;
  json: boolean;
  now: () => Date;
  print(text: string): void;
  emit(value: unknown): void;
  warn(text: string): void;
}

/** Fields beyond BaseCtx are filled as far as `needs` asks (config → db → services/actor). */
export interface Ctx extends BaseCtx {
  config: Config;
  db: Db;
  services: Services;
  actor: Actor;
}

/**
 * One verb. `parse` checks the arguments before anything is opened (so bad input changes nothing
 * and fails fast); `run` does the work.
 *  needs: 'org' = migrated database + org + services; 'db' = migrated database only;
 *  'config' = a valid configuration only; 'none' = nothing (doctor checks for itself).
 */
export interface Command<T = unknown> {
  path: [string] | [string, string];
  args: string;
  summary: string;
  flags: FlagName[];
  examples: string[];
  details?: string;
  needs: 'org' | 'db' | 'config' | 'none';
  parse(t: Tokens): T;
  run(ctx: Ctx, input: T): Promise<number | void>;
}

export const command = <T>(c: Command<T>): Command => c as unknown as Command;
