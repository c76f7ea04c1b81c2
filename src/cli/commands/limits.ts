/** `keyward limits show|set`: the `/limits` grammar in the terminal (the CLI acts as an org admin). */
import { parseLimitSettings } from '../../domain/limit-settings.js';
import { formatUsd } from '../../domain/money.js';
import { maskUrl, type LimitView } from '../../services/limits.js';
import type { Tokens } from '../args.js';
import { command, type Command } from '../spec.js';
import { asUsage, need } from './shared.js';

export function limitJson(v: LimitView) {
  const usd = (m: bigint | null) => (m === null ? null : { micros: Number(m), usd: formatUsd(m) });
  return {
    target: v.target, name: v.name, projectId: v.projectId, period: v.period.key,
    hard: usd(v.hardMicros), soft: usd(v.softMicros), spent: usd(v.spentMicros), usedFraction: v.usedFraction,
    rpm: v.rpm, itpm: v.itpm, otpm: v.otpm,
    thresholds: v.thresholds, channelId: v.channelId, notify: v.notify, webhook: v.webhookUrl ? maskUrl(v.webhookUrl) : null,
    webhookSigningSecret: v.webhookSigningSecret,
    webhookLegacySigning: v.webhookLegacySigning,
    lastDeliveryError: v.lastDeliveryError ? { at: v.lastDeliveryError.at.toISOString(), error: v.lastDeliveryError.error } : null,
    updatedBy: v.updatedBy, updatedAt: v.updatedAt?.toISOString() ?? null,
  };
}

function printLimit(print: (s: string) => void, v: LimitView) {
  const money = (m: bigint | null) => (m === null ? 'none' : formatUsd(m));
  const n = (x: number | null) => (x === null ? 'none' : String(x));
  print(`${v.target === 'org' ? 'Organisation' : `Project ${v.name}`} — ${v.period.key}`);
  print(`  hard limit   ${money(v.hardMicros)} per month`);
  print(`  soft limit   ${money(v.softMicros)} per month`);
  print(`  spent        ${formatUsd(v.spentMicros)}${v.usedFraction === null ? '' : ` (${(v.usedFraction * 100).toFixed(1)}% of hard)`}`);
  print(`  rate limits  rpm ${n(v.rpm)} · itpm ${n(v.itpm)} · otpm ${n(v.otpm)}`);
  print(`  thresholds   ${v.thresholds.map((t) => `${t}%`).join(', ')}`);
  print(`  alerts to    ${v.notify.join(', ')}${v.channelId ? ` (channel ${v.channelId})` : ''}${v.webhookUrl ? ` (webhook ${maskUrl(v.webhookUrl)})` : ''}`);
  if (v.webhookSigningSecret) print(`  signing key  ${v.webhookSigningSecret} (verify x-keyward-signature with it; new one: limits set ${v.target === 'org' ? 'org' : v.name} webhook-secret=rotate)`);
  if (v.webhookLegacySigning) print('               alerts also carry a signature under the old organisation-wide secret until you rotate');
  if (v.lastDeliveryError) print(`  last problem ${v.lastDeliveryError.at.toISOString()} ${v.lastDeliveryError.error}`);
}

export const limitCommands: Command[] = [
  command({
    path: ['limits', 'show'],
    args: '<project|org>',
    summary: 'Show limits, spend this month, alert thresholds and destinations.',
    flags: [],
    examples: ['keyward limits show support-bot', 'keyward limits show org --json'],
    needs: 'org',
    parse: (t: Tokens) => ({ target: need(t, 1, 'limits show', 'a project name or "org"', 1)[0]! }),
    async run(ctx, input) {
      const v = await ctx.services.limits.show(ctx.actor, input.target);
      if (ctx.json) return ctx.emit({ limits: limitJson(v) });
      printLimit(ctx.print, v);
    },
  }),
  command({
    path: ['limits', 'set'],
    args: '<project|org> [hard=<usd>] [soft=<usd>] [rpm=<n>] [itpm=<n>] [otpm=<n>] [thresholds=50,75,90,100] [channel=<id>] [notify=channel,admins,webhook] [webhook=<https url>] [webhook-secret=rotate]',
    summary: 'Change limits and alert settings ("none" clears one).',
    flags: [],
    details: 'Thresholds are percentages of the hard limit (of the soft limit without one); each fires once per month. webhook-secret=rotate gives the webhook a new signing secret (the old one stops at once).',
    examples: ['keyward limits set support-bot hard=500 soft=400', 'keyward limits set org thresholds=80,100 notify=channel,webhook webhook=https://example.com/hook', 'keyward limits set support-bot webhook-secret=rotate'],
    needs: 'org',
    parse: (t: Tokens) => {
      const [target, ...args] = need(t, 2, 'limits set', 'a project (or "org") and at least one name=value');
      return { target: target!, settings: asUsage(() => parseLimitSettings(args)) };
    },
    async run(ctx, input) {
      const v = await ctx.services.limits.set(ctx.actor, input.target, input.settings);
      if (ctx.json) return ctx.emit({ limits: limitJson(v) });
      ctx.print('Saved.');
      printLimit(ctx.print, v);
    },
  }),
];
