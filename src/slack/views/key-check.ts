/** `/keys check`: why a key may be failing. Pure: the service's report in, Block Kit out. */
import { REFUSAL_KINDS, spendLine, type RefusalCounts, type RefusalKind } from '../../domain/key-check.js';
import { formatUsd } from '../../domain/limits.js';
import type { KeyCandidate, KeyCheckReport, LimitSummary } from '../../services/key-check.js';
import { context, esc, fitMessage, header, section, slackDate, type Message } from './common.js';
import { packLines } from './projects.js';

const LABELS: Record<RefusalKind, string> = { unauthorized: '401', forbidden: '403', rateLimited: '429', spendLimit: 'spend limit' };

export const refusalCounts = (c: RefusalCounts) => REFUSAL_KINDS.map((k) => `${LABELS[k]} ×${c[k]}`).join(' · ');

/** `slack:U123` as a mention, other actors (`cli:alice`, `system`) as text. */
const actorText = (actor: string | null) => {
  if (!actor) return 'unknown';
  const m = /^slack:([UW][A-Z0-9]+)$/.exec(actor);
  return m ? `<@${m[1]}>` : `\`${esc(actor)}\``;
};
/** User text on one line, so it cannot start a line that looks like one of keyward's fields. */
const oneLine = (text: string) => esc(text.replace(/\s+/g, ' ').trim());

function statusLine(r: KeyCheckReport): string {
  const k = r.key;
  if (r.status === 'revoked') {
    return `:no_entry: *revoked* ${slackDate(k.revokedAt)} by ${actorText(k.revokedBy)}${k.revokeReason ? ` — “${oneLine(k.revokeReason)}”` : ''}`;
  }
  if (r.status === 'expired') return `:hourglass: *expired* ${slackDate(k.expiresAt ?? k.revokedAt)}`;
  if (r.graceUntil) return `:large_green_circle: *active*, rotated ${slackDate(k.rotatedAt)}: the previous secret ${k.prevHint} works until ${slackDate(r.graceUntil)}`;
  return ':large_green_circle: *active*';
}

const rates = (l: LimitSummary) =>
  [l.rpm && `${l.rpm} rpm`, l.itpm && `${l.itpm} itpm`, l.otpm && `${l.otpm} otpm`].filter(Boolean).join(', ') || 'no rate limits';
const limitLine = (l: LimitSummary) =>
  `${spendLine(l)}${l.softMicros !== null ? ` · soft ${formatUsd(l.softMicros)}` : ''} · ${rates(l)}`;

export function keyCheckMessage(r: KeyCheckReport): Message {
  const k = r.key;
  const { lastHour, lastDay, last } = r.refusals;
  const lines = [
    `*Status:* ${statusLine(r)}`,
    ...(r.matchedPrevious ? [`*Matched:* the secret replaced by the rotation ${slackDate(k.rotatedAt)}; the current one is ${k.hint}`] : []),
    `*Project:* ${k.projectName} · *Environment:* ${k.environment} · *Expires:* ${slackDate(k.expiresAt)} · *Secret:* ${k.hint}`,
    `*Scope:* ${k.scope} — ${r.endpoints.map((e) => `\`${e}\``).join(', ')}`,
    `*Key rate limit:* ${k.rpm ? `${k.rpm} requests/minute` : 'none of its own'}`,
    `*${k.projectName} this month:* ${limitLine(r.limits.project)} · resets ${slackDate(r.period.resetsAt)}`,
    ...(r.limits.org ? [`*Organisation this month:* ${limitLine(r.limits.org)}`] : []),
    `*Refused, last hour:* ${refusalCounts(lastHour)}`,
    `*Refused, last 24 h:* ${refusalCounts(lastDay)}${last ? ` · last ${slackDate(last.at)}: ${last.status} (${last.reason})` : ''}`,
  ];
  const text = `Key ${k.id} (${k.name}) in ${k.projectName}: ${r.status}. ${r.advice}`;
  return fitMessage(text, [
    header(`Key check: ${k.name}`),
    section(`\`${k.id}\``),
    section(lines.join('\n')),
    section(`*What to do:* ${r.advice}`),
    context('Counts come from the usage records: requests with a secret keyward does not know cannot be tied to any key.'),
  ]);
}

export function keyCheckChoices(last4: string, candidates: KeyCandidate[]): Message {
  const lines = candidates.map(
    (c) => `• \`${c.id}\` *${esc(c.name)}* · ${c.projectName} · ${c.status} · ${c.hint}${c.matchedPrevious ? ' (previous secret)' : ''}`,
  );
  const ask = `Several keys you can see have a secret ending in \`${last4}\`. Pick one by id: \`/keys check <key-id>\`.`;
  return fitMessage(`${ask} ${candidates.map((c) => c.id).join(', ')}`, [section(ask), ...packLines(lines, 40).blocks]);
}
