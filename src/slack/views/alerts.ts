/** Limit alert messages, built from the same payload the webhook sends. Pure Block Kit. */
import { alertHeadline, type AlertPayload } from '../../domain/alerts.js';
import { formatPercent } from '../../domain/money.js';
import { context, esc, fitMessage, header, section, slackDate, truncate, type Block, type Message } from './common.js';
import { textBar } from './usage.js';

export function limitAlertMessage(p: AlertPayload): Message {
  const who = p.project ? p.project.name : 'Organisation';
  const title = p.type === 'limit.soft' ? `:warning: ${who}: soft limit passed` : `${p.percentage >= 100 ? ':rotating_light:' : ':warning:'} ${who}: ${p.threshold}% of the ${p.limit.kind} limit`;
  const projected = p.projectedLimitAt
    ? slackDate(new Date(p.projectedLimitAt))
    : p.hardLimit && p.spend.micros >= p.hardLimit.micros
      ? 'reached'
      : 'not this period at the current rate';
  const blocks: Block[] = [
    header(title),
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Spend (${p.period.key})*\n${p.spend.usd}` },
        { type: 'mrkdwn', text: `*${p.limit.kind === 'hard' ? 'Hard' : 'Soft'} limit*\n${p.limit.usd}` },
        { type: 'mrkdwn', text: `*Used*\n${formatPercent(p.percentage / 100)}` },
        { type: 'mrkdwn', text: `*Hard limit reached*\n${p.hardLimit ? projected : 'no hard limit set'}` },
      ],
    },
    section(`${textBar(p.percentage / 100)} ${formatPercent(p.percentage / 100)}`),
  ];
  if (p.topKeys.length) {
    blocks.push(section(`*Top keys this period*\n${p.topKeys.map((k, i) => `${i + 1}. *${esc(truncate(k.name, 80))}* \`${k.id}\` — ${k.cost.usd}`).join('\n')}`));
  }
  blocks.push(section(`*What to do*\n${p.actions.map((a) => `• ${esc(a)}`).join('\n')}`));
  blocks.push(context(`Alert \`${p.id}\` · sent once per threshold and period · period ends ${slackDate(new Date(p.period.end))}`));
  return fitMessage(alertHeadline(p), blocks);
}

/**
 * Told once to admins when a destination keeps failing (e.g. the bot was removed from the channel).
 * `destination` and `hint` are system-made (they carry <#C…> mentions), so they are not escaped.
 */
export function deliveryProblemMessage(input: { destination: string; hint: string; alertId?: string }): Message {
  const text = `keyward could not deliver ${input.alertId ? `alert ${input.alertId}` : 'a notification'} to ${input.destination}. ${input.hint}`;
  return fitMessage(text, [section(`:warning: ${text}`), context('You are told once per destination until it works again. Details in the logs and `/limits show`.')]);
}
