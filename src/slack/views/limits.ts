/** `/limits` answers, the edit modal and `/keyward run` results. Pure Block Kit. */
import { formatCount, formatPercent, formatUsd } from '../../domain/money.js';
import type { LimitView } from '../../services/limits.js';
import { maskUrl } from '../../services/limits.js';
import { context, esc, fitMessage, header, plain, section, slackDate, truncate, type Block, type Message, type ModalView } from './common.js';
import { limitLines, periodLabel, withinBudget } from './usage.js';
import { packLines } from './projects.js';

export const LIMITS_EDIT_CALLBACK = 'keyward_limits_edit';

const money = (m: bigint | null) => (m === null ? 'none' : formatUsd(m));
const rate = (n: number | null, unit: string) => (n === null ? 'none' : `${formatCount(n)} ${unit}`);

export function destinations(v: LimitView): string {
  const parts: string[] = [];
  if (v.notify.includes('channel')) parts.push(v.channelId ? `<#${v.channelId}>` : 'the project’s alert channel (else the org default)');
  if (v.notify.includes('admins')) parts.push(v.target === 'org' ? 'org admins by DM' : 'project Admins by DM');
  if (v.notify.includes('webhook')) parts.push(v.webhookUrl ? `webhook ${maskUrl(v.webhookUrl)}` : 'webhook (no URL set!)');
  return parts.join(', ') || 'nowhere';
}

export function limitDetail(v: LimitView): Message {
  const who = v.target === 'org' ? 'Organisation' : v.name;
  const blocks: Block[] = [
    header(`Limits · ${who}`),
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Hard limit (per month)*\n${money(v.hardMicros)}` },
        { type: 'mrkdwn', text: `*Soft limit (per month)*\n${money(v.softMicros)}` },
        { type: 'mrkdwn', text: `*Spent in ${periodLabel(v.period)}*\n${formatUsd(v.spentMicros)}${v.usedFraction === null ? '' : ` (${formatPercent(v.usedFraction)})`}` },
        { type: 'mrkdwn', text: `*Rate limits*\n${rate(v.rpm, 'req/min')} · ${rate(v.itpm, 'input tok/min')} · ${rate(v.otpm, 'output tok/min')}` },
        { type: 'mrkdwn', text: `*Alert thresholds*\n${v.thresholds.map((t) => `${t}%`).join(', ')} of the ${v.hardMicros !== null ? 'hard' : 'soft'} limit` },
        { type: 'mrkdwn', text: truncate(`*Alerts go to*\n${destinations(v)}`, 2000) },
      ],
    },
  ];
  const bars = limitLines({ spendMicros: v.spentMicros, hardMicros: v.hardMicros, softMicros: v.softMicros });
  if (bars.length) blocks.push(section(bars.join('\n')));
  if (v.webhookSigningSecret) {
    const target = v.target === 'org' ? 'org' : v.name;
    const legacy = v.webhookLegacySigning
      ? ' Alerts also carry a signature under the old organisation-wide secret: once your receiver uses this one, stop that with'
      : ' New secret:';
    blocks.push(context(`This webhook's signing secret (verify \`x-keyward-signature\` with it; only who manages these limits sees it): \`${v.webhookSigningSecret}\`.${legacy} \`/limits set ${target} webhook-secret=rotate\`.`));
  }
  if (v.lastDeliveryError) blocks.push(section(`:warning: Last alert delivery problem (${slackDate(v.lastDeliveryError.at)}): ${esc(truncate(v.lastDeliveryError.error, 500))}`));
  const target = v.target === 'org' ? 'org' : v.name;
  blocks.push(
    context(
      `Change: \`/limits set ${target} hard=<usd> soft=<usd> thresholds=50,75,90,100 channel=#channel notify=channel,admins,webhook webhook=<https url>\`` +
        (v.target === 'project' ? ` or \`/limits edit ${target}\`` : '') +
        `. Clear one with \`=none\`.${v.updatedBy ? ` Last changed by ${v.updatedBy.replace(/^slack:/, '<@').replace(/^(<@U[A-Z0-9]+)$/, '$1>')} ${slackDate(v.updatedAt)}.` : ''}`,
    ),
  );
  return fitMessage(`Limits of ${who}: hard ${money(v.hardMicros)}, soft ${money(v.softMicros)}, spent ${formatUsd(v.spentMicros)} this month.`, blocks);
}

/** One line per project, for `/limits` without a target. */
export function limitList(views: LimitView[]): Message {
  if (views.length === 0) return { text: 'You are not in any project yet.', blocks: [section('You are not in any project yet.')] };
  const lines = views.map((v) => {
    const bar = limitLines({ spendMicros: v.spentMicros, hardMicros: v.hardMicros, softMicros: v.softMicros })[0];
    return `*${esc(v.name)}* — hard ${money(v.hardMicros)} · soft ${money(v.softMicros)} · spent ${formatUsd(v.spentMicros)}${bar ? `\n    ${bar}` : ''}`;
  });
  const { blocks, shown } = packLines(withinBudget(lines, 8_000), 45);
  return fitMessage(`Limits of your ${views.length} projects.`, [
    header('Limits · your projects'),
    ...blocks,
    context(`${shown < views.length ? `…${views.length - shown} more. ` : ''}Details: \`/limits <project>\` · org-wide: \`/limits org\`.`),
  ]);
}

export const limitsHelp = (): Message => {
  const lines = [
    '`/limits [project|org]` — limits, spend this month and where alerts go',
    '`/limits set <project|org> [hard=<usd>] [soft=<usd>] [rpm=<n>] [itpm=<n>] [otpm=<n>] [thresholds=50,75,90,100] [channel=#channel] [notify=channel,admins,webhook] [webhook=<https url>] [webhook-secret=rotate]` — _(project Admins; org admins for `org`)_',
    '`/limits edit <project>` — the same in a form',
    'Alerts fire once per threshold and month (of the hard limit, else of the soft one); `=none` clears a setting.',
  ];
  return { text: lines.join('\n'), blocks: [header('/limits — spend and rate limits, alerts'), section(lines.join('\n'))] };
};

const input = (blockId: string, label: string, initial: string, placeholder: string, hint?: string): Block => ({
  type: 'input',
  block_id: blockId,
  optional: true,
  label: plain(label, 2000),
  ...(hint ? { hint: plain(hint, 2000) } : {}),
  element: { type: 'plain_text_input', action_id: 'value', ...(initial ? { initial_value: initial } : {}), placeholder: plain(placeholder, 150) },
});

const usd = (m: bigint | null) => (m === null ? '' : (Number(m) / 1e6).toString());

/** `/limits edit <project>`: empty fields clear a setting. */
export function limitsEditModal(v: LimitView, meta: string): ModalView {
  const options = (['channel', 'admins', 'webhook'] as const).map((k) => ({ text: plain(k === 'channel' ? 'Alert channel' : k === 'admins' ? 'DM the project Admins' : 'Webhook'), value: k }));
  return {
    type: 'modal',
    callback_id: LIMITS_EDIT_CALLBACK,
    private_metadata: meta,
    title: plain(`Limits · ${v.name}`, 24),
    submit: plain('Save', 24),
    close: plain('Cancel', 24),
    blocks: [
      input('hard', 'Hard limit (USD per month)', usd(v.hardMicros), 'e.g. 500 — empty = no limit', 'Requests are refused once it is reached.'),
      input('soft', 'Soft limit (USD per month)', usd(v.softMicros), 'e.g. 400 — empty = none', 'An alert only.'),
      input('thresholds', 'Alert thresholds (%)', v.thresholds.join(','), '50,75,90,100'),
      {
        type: 'input',
        block_id: 'channel',
        optional: true,
        label: plain('Alert channel (empty = the project’s channel)', 2000),
        element: { type: 'conversations_select', action_id: 'value', filter: { include: ['public', 'private'], exclude_bot_users: true }, ...(v.channelId ? { initial_conversation: v.channelId } : {}) },
      },
      {
        type: 'input',
        block_id: 'notify',
        optional: true,
        label: plain('Send alerts to', 2000),
        element: {
          type: 'checkboxes',
          action_id: 'value',
          options,
          ...(v.notify.length ? { initial_options: options.filter((o) => v.notify.includes(o.value)) } : {}),
        },
      },
      input('webhook', 'Webhook URL (https)', v.webhookUrl ?? '', 'https://example.com/hooks/keyward', 'Signed JSON: verify the x-keyward-signature header.'),
    ],
  };
}

/** `/keyward run <job> [--dry-run]`. */
export function jobRunMessage(input: { job: string; dryRun: boolean; lines: string[]; sent: Array<{ kind: string; to: string; text?: string }> }): Message {
  const title = `${input.dryRun ? 'Dry run' : 'Ran'}: ${input.job}`;
  const lines = [
    ...input.lines.map((l) => `• ${esc(l).replace(/&lt;([#@][A-Z0-9]+)&gt;/g, '<$1>')}`),
    ...input.sent.map((s) => `• ${input.dryRun ? 'would send' : 'sent'} ${s.kind} to ${/^[CG]/.test(s.to) ? `<#${s.to}>` : /^[UW]/.test(s.to) ? `<@${s.to}>` : esc(s.to)}${s.text ? `: ${esc(truncate(s.text, 200))}` : ''}`),
  ];
  const body = lines.length ? lines : [input.dryRun ? 'Nothing would be sent right now.' : 'Nothing to do right now.'];
  const { blocks, shown } = packLines(withinBudget(body, 8_000), 45);
  return fitMessage(`${title}: ${lines.length} action${lines.length === 1 ? '' : 's'}.`, [
    header(title),
    ...blocks,
    context(`${shown < body.length ? `…${body.length - shown} more. ` : ''}${input.dryRun ? 'Nothing was sent or recorded.' : 'Scheduled runs are claimed once per slot; this run was extra.'}`),
  ]);
}
