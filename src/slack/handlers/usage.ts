/** `/usage [project|org] [day|week|month|quarter] [--chart]` and `/usage statement <project> <YYYY-MM>`. */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { chartPng } from '../../charts/usage.js';
import { parsePeriodKind, PERIOD_KINDS, type PeriodKind } from '../../domain/calendar.js';
import { invalid } from '../../domain/errors.js';
import { formatUsd } from '../../domain/money.js';
import type { Actor } from '../../services/index.js';
import { WebClientNotifier } from '../../services/notifier.js';
import { actorFor, explain, reply, type SlackDeps } from '../context.js';
import { clip, tokenize } from '../parse.js';
import { context, header, note, section, type Message } from '../views/common.js';
import { periodLabel, usageMessage } from '../views/usage.js';

export type UsageCommand =
  | { kind: 'help' }
  | { kind: 'report'; target: string | null; period: PeriodKind; chart: boolean }
  | { kind: 'statement'; project: string; month: string };

export function parseUsageCommand(text: string): UsageCommand {
  const tokens = tokenize(text);
  const first = (tokens[0] ?? '').toLowerCase();
  if (first === 'help') return { kind: 'help' };
  if (first === 'statement') {
    if (tokens.length !== 3) throw invalid('Usage: `/usage statement <project> <YYYY-MM>`, e.g. `/usage statement web 2026-10`.');
    return { kind: 'statement', project: tokens[1]!, month: tokens[2]! };
  }
  let target: string | null = null;
  let period: PeriodKind = 'month';
  let chart = false;
  for (const t of tokens) {
    if (t === '--chart') chart = true;
    else if ((PERIOD_KINDS as readonly string[]).includes(t.toLowerCase()) || ['today', 'daily', 'weekly', 'monthly', 'quarterly'].includes(t.toLowerCase())) period = parsePeriodKind(t);
    else if (t.startsWith('--')) throw invalid(`Unknown option "${clip(t)}". \`/usage [project|org] [day|week|month|quarter] [--chart]\`.`);
    else if (target === null) target = t;
    else throw invalid(`Unexpected "${clip(t)}". \`/usage [project|org] [day|week|month|quarter] [--chart]\`.`);
  }
  return { kind: 'report', target, period, chart };
}

export const usageHelp = (): Message => {
  const lines = [
    '`/usage` — your projects this month, one line each',
    '`/usage <project|org> [day|week|month|quarter] [--chart]` — requests, tokens, cost, latency, errors, top keys and models, change, limits _(Viewers and above; `org` for org admins)_',
    '`/usage statement <project> <YYYY-MM>` — the monthly CSV (per key and model), sent to your DM',
  ];
  return { text: lines.join('\n'), blocks: [header('/usage — usage and cost'), section(lines.join('\n'))] };
};

/** Files go to the asker's DM: the command's channel may not have the bot in it. */
async function dmChannel(client: WebClient, userId: string): Promise<string> {
  const r = await client.conversations.open({ users: userId });
  if (!r.channel?.id) throw new Error('conversations.open returned no channel');
  return r.channel.id;
}

export async function runUsage(deps: SlackDeps, client: WebClient, actor: Actor, cmd: UsageCommand): Promise<Message> {
  const reports = deps.services.reports;
  if (cmd.kind === 'help') return usageHelp();
  const notifier = new WebClientNotifier(client);
  if (cmd.kind === 'statement') {
    const s = await reports.statement(actor, cmd.project, cmd.month);
    const total = s.rows.reduce((t, r) => t + r.costMicros, 0n);
    await notifier.upload({ channel: await dmChannel(client, actor.userId!), filename: s.filename, title: `keyward statement ${s.project} ${s.month}`, content: s.csv, comment: `Cost statement of *${s.project}* for ${s.month}: ${formatUsd(total)}.` });
    return note(`Sent the ${s.month} statement of *${s.project}* (${s.rows.length} row${s.rows.length === 1 ? '' : 's'}, ${formatUsd(total)}) to your DM with keyward.`);
  }
  const message = usageMessage(await reports.report(actor, cmd.target, cmd.period));
  if (!cmd.chart) return message;
  const { period, points } = await reports.chartPoints(actor, cmd.target, cmd.period);
  const png = await chartPng(period, points);
  await notifier.upload({ channel: await dmChannel(client, actor.userId!), filename: `keyward-usage-${period.key}.png`, title: `Daily cost per project, ${periodLabel(period)}`, content: png });
  return { text: message.text, blocks: [...(message.blocks ?? []).slice(0, 49), context('Chart sent to your DM with keyward.')] };
}

export function registerUsage(app: App, deps: SlackDeps) {
  app.command('/usage', async ({ command, ack, respond, client }) => {
    await ack();
    let message: Message;
    try {
      const cmd = parseUsageCommand(command.text ?? '');
      const actor = await actorFor(deps, client, command.team_id, command.user_id);
      message = await runUsage(deps, client, actor, cmd);
    } catch (error) {
      message = explain(error, deps.logger, '/usage');
    }
    await reply(respond, message, deps.logger);
  });
}
