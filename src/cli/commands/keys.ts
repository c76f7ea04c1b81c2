import { fmtTime } from '../../domain/calendar.js';
import { DEFAULT_GRACE_MS, parseDays, parseGrace } from '../../domain/durations.js';
import { isKeyId, parseEnvironment, parseKeyName, parseScope } from '../../domain/keys.js';
import { parseProjectName } from '../../domain/projects.js';
import type { KeyView } from '../../services/keys.js';
import { clip, UsageError, type Tokens } from '../args.js';
import { effectiveStatus, keyJson, table } from '../format.js';
import { parseUserId } from '../ids.js';
import { command, type Command, type Ctx } from '../spec.js';
import { keyCheckCommand } from './key-check.js';
import { asUsage, need, str, wholeNumber } from './shared.js';

type KeyOut = KeyView & { projectName: string };

function keyId(raw: string): string {
  const id = raw.trim();
  if (!isKeyId(id)) throw new UsageError(`"${clip(id)}" is not a key id: key ids look like key_4fT9... (see keyward keys list)`);
  return id;
}

const ONCE_NOTE = 'This secret is shown only now and cannot be shown again: store it in your secret manager.';

/** The secret goes to stdout exactly once, next to a note saying so. */
function printSecret(ctx: Ctx, key: KeyOut, secret: string, headline: string) {
  if (ctx.json) return ctx.emit({ key: keyJson(key, ctx.now()), secret, note: ONCE_NOTE });
  ctx.print(headline);
  ctx.print('');
  ctx.print(`  ${secret}`);
  ctx.print('');
  ctx.print(ONCE_NOTE);
  if (ctx.config.secretGenerated) {
    ctx.warn('note: KEYWARD_SECRET is not set; keys are hashed with the secret generated in the data folder. The server must use the same one.');
  }
}

function describe(ctx: Ctx, k: KeyOut) {
  const tz = ctx.config.timezone;
  const lines: [string, string][] = [
    ['id', k.id], ['name', k.name], ['project', k.projectName], ['status', effectiveStatus(k, ctx.now())],
    ['scope', k.scope], ['environment', k.environment], ['owner', k.ownerId], ['secret', k.hint],
    ['rate limit', k.rpm ? `${k.rpm} requests/min` : 'project default'],
    ['created', fmtTime(k.createdAt, tz)], ['expires', k.expiresAt ? fmtTime(k.expiresAt, tz) : 'never'],
    ['last used', k.lastUsedAt ? fmtTime(k.lastUsedAt, tz) : 'never'],
  ];
  if (k.rotatedAt) lines.push(['rotated', fmtTime(k.rotatedAt, tz)]);
  if (k.graceEndsAt && k.prevHint) {
    // The old secret stops at the grace end, or earlier when the key was revoked.
    const live = k.status === 'active' && k.graceEndsAt > ctx.now();
    const ended = k.revokedAt && k.revokedAt < k.graceEndsAt ? k.revokedAt : k.graceEndsAt;
    lines.push(['previous secret', live ? `${k.prevHint} works until ${fmtTime(k.graceEndsAt, tz)}` : `${k.prevHint} stopped ${fmtTime(ended, tz)}`]);
  }
  if (k.revokedAt) lines.push(['revoked', `${fmtTime(k.revokedAt, tz)} by ${k.revokedBy}${k.revokeReason ? `: ${k.revokeReason}` : ''}`]);
  const width = Math.max(...lines.map(([label]) => label.length)) + 1;
  for (const [label, value] of lines) ctx.print(`${`${label}:`.padEnd(width)} ${value}`);
}

export const keyCommands: Command[] = [
  command({
    path: ['keys', 'create'],
    args: '<project> <name...> [--scope full|inference|read-only] [--env dev|staging|prod] [--expires <N>d] [--rpm N] [--owner <user-id>]',
    summary: 'Create a key and print its secret once.',
    flags: ['scope', 'env', 'expires', 'rpm', 'owner'],
    details:
      'Defaults: --scope inference, --env dev, no expiry, the project\'s rate limit. The owner defaults to\n' +
      'cli:<your OS user>; pass --owner so a Slack user can rotate and revoke the key.',
    examples: [
      'keyward keys create support-bot Production App --scope inference --env prod --expires 90d',
      'keyward keys create support-bot "Local Dev" --owner U012ABC3DEF --rpm 60',
      'keyward keys create support-bot CI --json | jq -r .secret',
    ],
    needs: 'org',
    parse: (t: Tokens) => {
      const [project, ...name] = need(t, 2, 'keys create', 'a project and a key name');
      const f = t.flags;
      return {
        project: asUsage(() => parseProjectName(project!.toLowerCase())),
        name: asUsage(() => parseKeyName(name.join(' '))),
        scope: str(f.scope) ? asUsage(() => parseScope(str(f.scope)!)) : undefined,
        environment: str(f.env) ? asUsage(() => parseEnvironment(str(f.env)!)) : undefined,
        expiresInMs: str(f.expires) ? asUsage(() => parseDays(str(f.expires)!)) : undefined,
        rpm: wholeNumber(f.rpm, 'rpm', 1, 1_000_000),
        ownerId: str(f.owner) ? parseUserId(str(f.owner)!, 'user') : undefined,
      };
    },
    async run(ctx, input) {
      const { key, projectName, secret } = await ctx.services.keys.create(ctx.actor, input);
      const k = { ...key, projectName };
      printSecret(ctx, k, secret, `Created ${k.id} "${k.name}" in ${projectName} (${k.scope}, ${k.environment}${k.expiresAt ? `, expires ${fmtTime(k.expiresAt, ctx.config.timezone)}` : ''}). Secret:`);
    },
  }),
  command({
    path: ['keys', 'list'],
    args: '[project] [--all]',
    summary: 'List active keys (--all adds revoked and expired ones).',
    flags: ['all'],
    examples: ['keyward keys list', 'keyward keys list support-bot --all --json'],
    needs: 'org',
    parse: (t: Tokens) => {
      const [project] = need(t, 0, 'keys list', '', 1);
      return { project: project ? asUsage(() => parseProjectName(project.toLowerCase())) : undefined, all: t.flags.all === true };
    },
    async run(ctx, input) {
      const keys = await ctx.services.keys.list(ctx.actor, input.project, { includeInactive: input.all });
      const now = ctx.now();
      if (ctx.json) return ctx.emit({ keys: keys.map((k) => keyJson(k, now)) });
      if (keys.length === 0) {
        return ctx.print(`No ${input.all ? '' : 'active '}keys${input.project ? ` in ${input.project}` : ''}. Create one: keyward keys create <project> <name>`);
      }
      const tz = ctx.config.timezone;
      ctx.print(
        table(
          ['ID', 'PROJECT', 'NAME', 'SCOPE', 'ENV', 'STATUS', 'OWNER', 'SECRET', 'EXPIRES', 'LAST USED'],
          keys.map((k) => [
            k.id, k.projectName, clip(k.name, 32), k.scope, k.environment, effectiveStatus(k, now), k.ownerId, k.hint,
            k.expiresAt ? fmtTime(k.expiresAt, tz) : 'never', k.lastUsedAt ? fmtTime(k.lastUsedAt, tz) : 'never',
          ]),
        ),
      );
    },
  }),
  command({
    path: ['keys', 'show'],
    args: '<key-id>',
    summary: "Show a key's settings and status (never its secret).",
    flags: [],
    examples: ['keyward keys show key_4fT9aB2cD3eF4gH5'],
    needs: 'org',
    parse: (t: Tokens) => ({ id: keyId(need(t, 1, 'keys show', 'a key id', 1)[0]!) }),
    async run(ctx, input) {
      const k = await ctx.services.keys.show(ctx.actor, input.id);
      if (ctx.json) return ctx.emit({ key: keyJson(k, ctx.now()) });
      describe(ctx, k);
    },
  }),
  command({
    path: ['keys', 'revoke'],
    args: '<key-id> [--reason <text>]',
    summary: 'Revoke a key at once (every gateway refuses it within seconds).',
    flags: ['reason'],
    examples: ['keyward keys revoke key_4fT9aB2cD3eF4gH5 --reason "leaked in a log"'],
    needs: 'org',
    parse: (t: Tokens) => {
      const reason = str(t.flags.reason) ?? '';
      if (reason.length > 500) throw new UsageError(`--reason is at most 500 characters (got ${reason.length})`);
      return { id: keyId(need(t, 1, 'keys revoke', 'a key id', 1)[0]!), reason };
    },
    async run(ctx, input) {
      const k = await ctx.services.keys.revoke(ctx.actor, input.id, input.reason);
      if (ctx.json) return ctx.emit({ key: keyJson(k, ctx.now()) });
      ctx.print(`Revoked ${k.id} "${k.name}" in ${k.projectName}${k.revokeReason ? ` (${k.revokeReason})` : ''}.`);
    },
  }),
  command({
    path: ['keys', 'rotate'],
    args: '<key-id> [--grace <N>h]',
    summary: 'Issue a new secret for a key; the old one keeps working for the grace period (default 24h).',
    flags: ['grace'],
    examples: ['keyward keys rotate key_4fT9aB2cD3eF4gH5', 'keyward keys rotate key_4fT9aB2cD3eF4gH5 --grace 0h'],
    needs: 'org',
    parse: (t: Tokens) => ({
      id: keyId(need(t, 1, 'keys rotate', 'a key id', 1)[0]!),
      graceMs: str(t.flags.grace) ? asUsage(() => parseGrace(str(t.flags.grace)!)) : DEFAULT_GRACE_MS,
    }),
    async run(ctx, input) {
      const { key, secret } = await ctx.services.keys.rotate(ctx.actor, input.id, input.graceMs);
      const old = key.graceEndsAt
        ? `the previous secret ${key.prevHint} works until ${fmtTime(key.graceEndsAt, ctx.config.timezone)}`
        : 'the previous secret stopped working now';
      printSecret(ctx, key, secret, `Rotated ${key.id} "${key.name}" in ${key.projectName}; ${old}. New secret:`);
    },
  }),
  keyCheckCommand,
];
