/** `keyward keys check`: why a key may be failing, as text or stable JSON. */
import { fmtTime } from '../../domain/calendar.js';
import { parseKeyRef, REFUSAL_KINDS, spendLine, type RefusalCounts, type RefusalKind } from '../../domain/key-check.js';
import { formatUsd } from '../../domain/money.js';
import type { KeyCandidate, KeyCheckReport, LimitSummary } from '../../services/key-check.js';
import type { Tokens } from '../args.js';
import { cliText, keyJson, table } from '../format.js';
import { command, type Ctx } from '../spec.js';
import { asUsage, need } from './shared.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const usd = (m: bigint | null) => (m === null ? null : { micros: Number(m), usd: formatUsd(m) });
const limitJson = (l: LimitSummary) => ({
  hard: usd(l.hardMicros), soft: usd(l.softMicros), spent: usd(l.spentMicros), usedFraction: l.usedFraction,
  rpm: l.rpm, itpm: l.itpm, otpm: l.otpm,
});

export function keyCheckJson(r: KeyCheckReport) {
  return {
    ambiguous: false,
    key: keyJson(r.key, r.checkedAt),
    status: r.status,
    graceUntil: iso(r.graceUntil),
    matchedPreviousSecret: r.matchedPrevious,
    endpoints: r.endpoints,
    period: r.period.key,
    resetsAt: r.period.resetsAtText,
    limits: { project: limitJson(r.limits.project), org: r.limits.org ? limitJson(r.limits.org) : null },
    refusals: {
      lastHour: r.refusals.lastHour,
      lastDay: r.refusals.lastDay,
      last: r.refusals.last
        ? { at: r.refusals.last.at.toISOString(), status: r.refusals.last.status, errorClass: r.refusals.last.errorClass, reason: r.refusals.last.reason }
        : null,
    },
    advice: cliText(r.advice),
    checkedAt: r.checkedAt.toISOString(),
  };
}

const LABELS: Record<RefusalKind, string> = { unauthorized: '401', forbidden: '403', rateLimited: '429', spendLimit: 'spend limit' };
const counts = (c: RefusalCounts) => REFUSAL_KINDS.map((k) => `${LABELS[k]} ×${c[k]}`).join(' · ');
const rates = (l: LimitSummary) =>
  [l.rpm && `${l.rpm} rpm`, l.itpm && `${l.itpm} itpm`, l.otpm && `${l.otpm} otpm`].filter(Boolean).join(', ') || 'no rate limits';
const limitText = (l: LimitSummary) => `${spendLine(l)}${l.softMicros !== null ? `, soft ${formatUsd(l.softMicros)}` : ''}; ${rates(l)}`;

function printReport(ctx: Ctx, r: KeyCheckReport) {
  const tz = ctx.config.timezone;
  const k = r.key;
  let status: string = r.status;
  if (r.status === 'revoked') status = `revoked ${fmtTime(k.revokedAt, tz)} by ${k.revokedBy ?? 'unknown'}${k.revokeReason ? `: ${k.revokeReason.replace(/\s+/g, ' ')}` : ''}`;
  else if (r.status === 'expired') status = `expired ${fmtTime(k.expiresAt ?? k.revokedAt, tz)}`;
  else if (r.graceUntil) status = `active; rotated ${fmtTime(k.rotatedAt, tz)}, the previous secret ${k.prevHint} works until ${fmtTime(r.graceUntil, tz)}`;
  const last = r.refusals.last;
  const lines: [string, string][] = [
    ['key', `${k.id} "${k.name}" in ${k.projectName}`],
    ['status', status],
    ...(r.matchedPrevious ? [['matched', `the secret replaced by the rotation of ${fmtTime(k.rotatedAt, tz)}; the current one is ${k.hint}`] as [string, string]] : []),
    ['environment', k.environment],
    ['expires', k.expiresAt ? fmtTime(k.expiresAt, tz) : 'never'],
    ['secret', k.hint],
    ['scope', `${k.scope}: ${r.endpoints.join(', ')}`],
    ['key rate limit', k.rpm ? `${k.rpm} requests/min` : 'none of its own'],
    [`project ${r.period.key}`, `${limitText(r.limits.project)}; resets ${fmtTime(r.period.resetsAt, tz)}`],
    ...(r.limits.org ? [[`org ${r.period.key}`, limitText(r.limits.org)] as [string, string]] : []),
    ['refused 1 h', counts(r.refusals.lastHour)],
    ['refused 24 h', `${counts(r.refusals.lastDay)}${last ? `; last ${fmtTime(last.at, tz)}: ${last.status} (${last.reason})` : ''}`],
  ];
  const width = Math.max(...lines.map(([label]) => label.length)) + 1;
  for (const [label, value] of lines) ctx.print(`${`${label}:`.padEnd(width)} ${value}`);
  ctx.print('');
  ctx.print(`What to do: ${cliText(r.advice)}`);
}

function printChoices(ctx: Ctx, last4: string, candidates: KeyCandidate[]) {
  ctx.print(`Several keys have a secret ending in "${last4}". Pick one by id: keyward keys check <key-id>`);
  ctx.print('');
  ctx.print(table(
    ['ID', 'PROJECT', 'NAME', 'STATUS', 'SECRET'],
    candidates.map((c) => [c.id, c.projectName, c.name, c.status, `${c.hint}${c.matchedPrevious ? ' (previous)' : ''}`]),
  ));
}

export const keyCheckCommand = command({
  path: ['keys', 'check'],
  args: '<key-id | last 4 characters of the secret>',
  summary: 'Why a key fails: status, scope and endpoints, limits and spend, recent 401/403/429/spend-limit refusals, what to do.',
  flags: [],
  details:
    'Refusals come from the usage records of the last hour and day (401s of revoked, expired and rotated-out\n' +
    'secrets included); a request with a secret keyward does not know cannot be tied to any key.\n' +
    'With the last 4 characters, several matching keys are listed to pick one by id (exit 1, as when no key matches).',
  examples: ['keyward keys check key_4fT9aB2cD3eF4gH5', 'keyward keys check wxyz --json'],
  needs: 'org',
  parse: (t: Tokens) => {
    const [ref] = need(t, 1, 'keys check', 'a key id or the last 4 characters of the secret', 1);
    asUsage(() => parseKeyRef(ref!));
    return { ref: ref! };
  },
  async run(ctx, input) {
    const r = await ctx.services.keyCheck.check(ctx.actor, input.ref);
    if (r.kind === 'ambiguous') {
      if (ctx.json) {
        ctx.emit({
          ambiguous: true,
          candidates: r.candidates.map((c) => ({ id: c.id, name: c.name, project: c.projectName, status: c.status, hint: c.hint, matchedPreviousSecret: c.matchedPrevious })),
        });
      } else printChoices(ctx, r.last4, r.candidates);
      return 1;
    }
    if (ctx.json) return ctx.emit(keyCheckJson(r.report));
    printReport(ctx, r.report);
  },
});
