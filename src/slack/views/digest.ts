/** Weekly digest and rotation reminder messages. Pure Block Kit. */
import type { Digest, DueKey } from '../../domain/digest.js';
import type { RotationReason } from '../../domain/jobs.js';
import { formatCount, formatPercent, formatUsd } from '../../domain/money.js';
import { totalTokensOf } from '../../domain/report.js';
import { context, divider, esc, fitMessage, header, section, truncate, type Block, type Message } from './common.js';
import { packLines } from './projects.js';
import { changeText, limitLines, periodLabel, withinBudget } from './usage.js';

export function dueText(due: RotationReason): string {
  if (due.reason === 'expiring') return `expires in ${due.expiresInDays} day${due.expiresInDays === 1 ? '' : 's'}`;
  return `${due.ageDays} days since its secret was made`;
}

const dueLine = (k: DueKey) => `• *${esc(truncate(k.name, 64))}* \`${k.id}\` (${esc(k.projectName)}) — ${dueText(k.due)} · owner <@${k.ownerId}>`;

function dueBlocks(keys: DueKey[], maxBlocks: number): Block[] {
  if (keys.length === 0 || maxBlocks < 2) return [];
  const { blocks, shown } = packLines(withinBudget(keys.map(dueLine), 2_500), maxBlocks - 1);
  const more = shown < keys.length ? ` (${keys.length - shown} more not shown)` : '';
  return [section(`*Keys due for rotation* — ${keys.length}${more}. Rotate with \`/keys rotate <key-id>\`.`), ...blocks].slice(0, maxBlocks);
}

function projectLine(p: Digest['projects'][number]): string {
  const t = p.totals;
  const lines = [
    `*${esc(p.name)}* — ${formatUsd(t.costMicros)} (${changeText(p.change.cost)}) · ${formatCount(totalTokensOf(t))} tokens (${changeText(p.change.tokens)}) · ` +
      `${formatCount(t.requests)} requests (${changeText(p.change.requests)}) · errors ${formatPercent(p.errorRate)}`,
  ];
  if (p.topKeys.length) lines.push(`    Top keys: ${p.topKeys.map((k) => `${esc(truncate(k.label, 40))} ${formatUsd(k.costMicros)}`).join(', ')}`);
  for (const l of limitLines(p.limit, 'month to date')) lines.push(`    ${l}`);
  return lines.join('\n');
}

/**
 * The Monday digest. An empty week is two short lines (plus keys due). `chartFileId` is the
 * uploaded PNG (files.getUploadURLExternal + completeUploadExternal), shown as an image block.
 */
export function digestMessage(d: Digest, opts: { chartFileId?: string } = {}): Message {
  const title = `Weekly usage · ${periodLabel(d.week)}`;
  if (d.empty) {
    const blocks: Block[] = [header(title), section('No API requests last week. :zzz:'), ...dueBlocks(d.dueKeys, 20)];
    return fitMessage(`${title}: no API requests last week${d.dueKeys.length ? `; ${d.dueKeys.length} keys due for rotation` : ''}.`, blocks);
  }
  const t = d.totals;
  const blocks: Block[] = [
    header(title),
    section(
      `*${formatUsd(t.costMicros)}* (${changeText(d.change.cost)}) · ${formatCount(totalTokensOf(t))} tokens (${changeText(d.change.tokens)}) · ` +
        `${formatCount(t.requests)} requests (${changeText(d.change.requests)}) across ${d.projects.length} project${d.projects.length === 1 ? '' : 's'}.`,
    ),
  ];
  if (opts.chartFileId) blocks.push({ type: 'image', slack_file: { id: opts.chartFileId }, alt_text: `Daily cost per project, ${periodLabel(d.week)}` });
  blocks.push(divider());
  const due = dueBlocks(d.dueKeys, 8);
  const room = 50 - blocks.length - due.length - 3;
  const { blocks: projectBlocks, shown } = packLines(withinBudget(d.projects.map(projectLine), 6_000), room);
  blocks.push(...projectBlocks);
  if (shown < d.projects.length) blocks.push(context(`…${d.projects.length - shown} more projects not shown: \`/usage <project> week\`.`));
  if (d.quiet.length) blocks.push(context(truncate(`No usage: ${d.quiet.map(esc).join(', ')}`, 600)));
  if (due.length) blocks.push(divider(), ...due);
  blocks.push(context(`Week ${d.week.key} (${d.week.timeZone}), compared with the week before.`));
  return fitMessage(`${title}: ${formatUsd(t.costMicros)}, ${formatCount(t.requests)} requests across ${d.projects.length} projects.`, blocks);
}

/** DM to a key's owner. */
export function rotationReminderMessage(k: DueKey): Message {
  const text = `Your key ${k.name} (${k.projectName}) ${dueText(k.due)}: rotate it with /keys rotate ${k.id}.`;
  return fitMessage(text, [
    section(`:key: Your key *${esc(truncate(k.name, 64))}* \`${k.id}\` in *${esc(k.projectName)}* ${dueText(k.due)}.`),
    section(`Rotate it with \`/keys rotate ${k.id}\` — the old secret keeps working during the grace period, so you can swap it without downtime.`),
    context('You get this at most once a week per key.'),
  ]);
}
