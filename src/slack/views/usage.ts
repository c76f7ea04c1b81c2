/** `/usage` answers: one project in detail, or several projects one line each. Pure Block Kit. */
import { periodLabel, type Period } from '../../domain/calendar.js';
import { formatCount, formatPercent, formatUsd } from '../../domain/money.js';
import { errorCount, errorRate, percentChange, totalTokensOf, type Breakdown, type LimitStatus, type UsageTotals } from '../../domain/report.js';
import { context, esc, fitMessage, header, section, truncate, type Block, type Message } from './common.js';
import { packLines } from './projects.js';

export { periodLabel };


/** "▲ 12%", "▼ 5%", "new", "±0%". */
export function changeText(change: number | null): string {
  if (change === null) return 'new';
  if (Math.abs(change) < 0.0005) return '±0%';
  return `${change > 0 ? '▲' : '▼'} ${formatPercent(Math.abs(change))}`;
}

/** `██████░░░░` for a fraction; full and flagged beyond 100 %. */
export function textBar(fraction: number, width = 20): string {
  const f = Math.max(0, fraction);
  const filled = Math.min(width, Math.round(f * width));
  return `\`${'█'.repeat(filled)}${'░'.repeat(width - filled)}\`${f >= 1 ? ' :warning:' : ''}`;
}

/** Spend against hard and soft limits as bars; empty when no limit is set. */
export function limitLines(limit: LimitStatus | null, what = 'this month'): string[] {
  if (!limit) return [];
  const lines: string[] = [];
  for (const [kind, cap] of [
    ['hard', limit.hardMicros],
    ['soft', limit.softMicros],
  ] as const) {
    if (cap === null || cap <= 0n) continue;
    const f = Number((limit.spendMicros * 10_000n) / cap) / 10_000;
    lines.push(`${textBar(f)} ${formatPercent(f)} of the ${kind} limit ${formatUsd(cap)} (${formatUsd(limit.spendMicros)} ${what})`);
  }
  return lines;
}

export function errorLine(t: UsageTotals): string {
  const e = t.errors;
  const split = `401: ${formatCount(e.unauthorized)} · 403: ${formatCount(e.forbidden)} · 429: ${formatCount(e.rateLimited)} · 5xx: ${formatCount(e.server)} · other: ${formatCount(e.other)}`;
  return `*Errors* ${formatPercent(errorRate(t))} (${formatCount(errorCount(e))}) — ${split}`;
}

export const latencyText = (t: UsageTotals) =>
  t.latencyAvgMs === null ? '—' : `avg ${formatCount(Math.round(t.latencyAvgMs))} ms · p95 ${t.latencyP95Ms === null ? '—' : `${formatCount(Math.round(t.latencyP95Ms))} ms`}`;

export const breakdownLine = (b: Breakdown, i: number) =>
  `${i + 1}. *${esc(truncate(b.label, 80))}* — ${formatUsd(b.costMicros)} · ${formatCount(b.tokens)} tokens · ${formatCount(b.requests)} requests`;

/**
 * Slack refuses messages whose blocks are much above ~13k characters (msg_blocks_too_long), so
 * long lists are cut to a character budget before they are packed into sections.
 */
export const MESSAGE_CHAR_BUDGET = 10_000;

export function withinBudget(lines: string[], maxChars: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const l of lines) {
    used += l.length + 1;
    if (used > maxChars) break;
    out.push(l);
  }
  return out;
}

export interface UsageReportView {
  scope: { kind: 'project' | 'org'; name: string };
  period: Period;
  previousKey: string;
  current: UsageTotals;
  previous: UsageTotals;
  topKeys: Breakdown[];
  topModels: Breakdown[];
  /** Month-to-date spend and limits (limits are monthly whatever the report's period). */
  limit: LimitStatus | null;
}

const field = (title: string, value: string) => ({ type: 'mrkdwn' as const, text: truncate(`*${title}*\n${value}`, 2000) });

function detailBlocks(r: UsageReportView, topN: number): Block[] {
  const c = r.current;
  const p = r.previous;
  const who = r.scope.kind === 'org' ? 'Organisation' : r.scope.name;
  const blocks: Block[] = [
    header(`Usage · ${who} · ${periodLabel(r.period)}`),
    {
      type: 'section',
      fields: [
        field('Requests', `${formatCount(c.requests)} (${changeText(percentChange(c.requests, p.requests))})`),
        field('Cost', `${formatUsd(c.costMicros)} (${changeText(percentChange(c.costMicros, p.costMicros))})`),
        field('Input tokens', formatCount(c.inputTokens)),
        field('Output tokens', formatCount(c.outputTokens)),
        field('Cache tokens', `read ${formatCount(c.cacheReadTokens)} · write ${formatCount(c.cacheWriteTokens)}`),
        field('Total tokens', `${formatCount(totalTokensOf(c))} (${changeText(percentChange(totalTokensOf(c), totalTokensOf(p)))})`),
        field('Latency', latencyText(c)),
        field('Error rate', `${formatPercent(errorRate(c))} (was ${formatPercent(errorRate(p))})`),
      ],
    },
    section(errorLine(c)),
  ];
  const keys = r.topKeys.slice(0, topN);
  const models = r.topModels.slice(0, topN);
  if (keys.length) blocks.push(section(`*Top keys*\n${keys.map(breakdownLine).join('\n')}`));
  if (models.length) blocks.push(section(`*Top models*\n${models.map(breakdownLine).join('\n')}`));
  const limits = limitLines(r.limit);
  blocks.push(section(limits.length ? `*Spend against limits*\n${limits.join('\n')}` : '*Spend against limits*\nNo spend limit set. Set one with `/limits set`.'));
  blocks.push(context(`Compared with ${r.previousKey}. Periods in ${r.period.timeZone}; limits are per calendar month.`));
  return blocks;
}

function summaryLine(r: UsageReportView): string {
  const c = r.current;
  const limit = limitLines(r.limit)[0];
  return (
    `*${esc(r.scope.name)}* — ${formatUsd(c.costMicros)} (${changeText(percentChange(c.costMicros, r.previous.costMicros))}) · ` +
    `${formatCount(totalTokensOf(c))} tokens · ${formatCount(c.requests)} requests · errors ${formatPercent(errorRate(c))}` +
    (limit ? `\n    ${limit}` : '')
  );
}

/** One report in detail; several as one line each, cost first. Always ≤ 50 blocks. */
export function usageMessage(reports: UsageReportView[], opts: { topN?: number } = {}): Message {
  if (reports.length === 0) return { text: 'No usage to show: you are not in any project yet.', blocks: [section('No usage to show: you are not in any project yet.')] };
  if (reports.length === 1) {
    const r = reports[0]!;
    const text = `Usage of ${r.scope.kind === 'org' ? 'the organisation' : r.scope.name} for ${periodLabel(r.period)}: ${formatCount(r.current.requests)} requests, ${formatUsd(r.current.costMicros)}.`;
    return fitMessage(text, detailBlocks(r, opts.topN ?? 5));
  }
  const sorted = [...reports].sort((a, b) => (a.current.costMicros === b.current.costMicros ? a.scope.name.localeCompare(b.scope.name) : a.current.costMicros > b.current.costMicros ? -1 : 1));
  const total = sorted.reduce((s, r) => s + r.current.costMicros, 0n);
  const period = sorted[0]!.period;
  const blocks: Block[] = [header(`Usage · your projects · ${periodLabel(period)}`), section(`*${sorted.length} projects*, ${formatUsd(total)} in total.`)];
  const { blocks: lines, shown } = packLines(withinBudget(sorted.map(summaryLine), MESSAGE_CHAR_BUDGET), 45);
  blocks.push(...lines);
  blocks.push(context(`${shown < sorted.length ? `…${sorted.length - shown} more not shown. ` : ''}Details: \`/usage <project> [day|week|month|quarter]\`.`));
  return fitMessage(`Usage of your ${sorted.length} projects for ${periodLabel(period)}: ${formatUsd(total)}.`, blocks);
}
