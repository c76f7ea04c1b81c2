/** The usage part of App Home: this month per project, limits, keys due for rotation. Pure. */
import type { Period } from '../../domain/calendar.js';
import type { DueKey } from '../../domain/digest.js';
import { formatCount, formatPercent, formatUsd } from '../../domain/money.js';
import { addTotals, emptyTotals, errorRate, percentChange, totalTokensOf, type LimitStatus, type UsageTotals } from '../../domain/report.js';
import { context, divider, esc, header, section, truncate, type Block } from './common.js';
import { dueText } from './digest.js';
import { packLines } from './projects.js';
import { changeText, limitLines, periodLabel } from './usage.js';

export interface HomeProjectUsage {
  name: string;
  current: UsageTotals;
  /** The same part of the previous month, for a fair change. */
  previous: UsageTotals;
  limit: LimitStatus | null;
}

const line = (p: HomeProjectUsage) => {
  const c = p.current;
  const limit = limitLines(p.limit)[0];
  return (
    `*${esc(p.name)}* — ${formatUsd(c.costMicros)} (${changeText(percentChange(c.costMicros, p.previous.costMicros))}) · ${formatCount(totalTokensOf(c))} tokens · ` +
    `${formatCount(c.requests)} requests · errors ${formatPercent(errorRate(c))}${limit ? `\n    ${limit}` : ''}`
  );
};

/**
 * Blocks to append to the Home view, never more than `maxBlocks` (the caller owns the 100-block
 * budget of the whole tab). Most expensive projects first.
 */
export function homeUsageBlocks(input: { period: Period; projects: HomeProjectUsage[]; dueKeys: DueKey[]; maxBlocks: number }): Block[] {
  if (input.maxBlocks < 3) return [];
  const projects = [...input.projects].sort((a, b) =>
    a.current.costMicros === b.current.costMicros ? a.name.localeCompare(b.name) : a.current.costMicros > b.current.costMicros ? -1 : 1,
  );
  const total = projects.reduce((s, p) => addTotals(s, p.current), emptyTotals());
  const blocks: Block[] = [divider(), header(`Usage · ${periodLabel(input.period)}`)];
  if (projects.length === 0) blocks.push(section('No projects yet, so no usage.'));
  else {
    blocks.push(section(`${formatUsd(total.costMicros)} · ${formatCount(totalTokensOf(total))} tokens · ${formatCount(total.requests)} requests across your ${projects.length} project${projects.length === 1 ? '' : 's'}.`));
    const dueRoom = input.dueKeys.length ? Math.min(6, Math.floor((input.maxBlocks - 4) / 2)) : 0;
    const { blocks: b, shown } = packLines(projects.map(line), Math.max(1, input.maxBlocks - blocks.length - 1 - dueRoom - (dueRoom ? 2 : 0)));
    blocks.push(...b);
    if (shown < projects.length) blocks.push(context(`…${projects.length - shown} more: \`/usage\``));
  }
  const room = input.maxBlocks - blocks.length - 2;
  if (input.dueKeys.length && room >= 1) {
    const lines = input.dueKeys.map((k) => `• *${esc(truncate(k.name, 64))}* (${esc(k.projectName)}) — ${dueText(k.due)}`);
    const { blocks: b, shown } = packLines(lines, room);
    blocks.push(header(`Keys due for rotation (${input.dueKeys.length})`), ...b);
    if (shown < lines.length && blocks.length < input.maxBlocks) blocks.push(context(`…${lines.length - shown} more. Rotate with \`/keys rotate <key-id>\`.`));
  }
  return blocks.slice(0, input.maxBlocks);
}
