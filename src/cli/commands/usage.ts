/** `keyward usage [project|org] [day|week|month|quarter]` and `keyward usage statement <project> <YYYY-MM>`. */
import { parsePeriodKind, PERIOD_KINDS, type PeriodKind } from '../../domain/calendar.js';
import { formatCount, formatUsd } from '../../domain/money.js';
import { errorCount, errorRate, totalTokensOf, type UsageTotals } from '../../domain/report.js';
import type { UsageReport } from '../../services/reports.js';
import { UsageError, type Tokens } from '../args.js';
import { table } from '../format.js';
import { command, type Command } from '../spec.js';
import { asUsage, need } from './shared.js';

const totalsJson = (t: UsageTotals) => ({
  requests: t.requests, inputTokens: t.inputTokens, outputTokens: t.outputTokens, cacheReadTokens: t.cacheReadTokens,
  cacheWriteTokens: t.cacheWriteTokens, costMicros: Number(t.costMicros), costUsd: formatUsd(t.costMicros),
  errors: t.errors, errorRate: errorRate(t), latencyAvgMs: t.latencyAvgMs, latencyP95Ms: t.latencyP95Ms,
});

export const reportJson = (r: UsageReport) => ({
  scope: r.scope.kind, name: r.scope.name, period: r.period.key, previousPeriod: r.previousKey,
  current: totalsJson(r.current), previous: totalsJson(r.previous),
  topKeys: r.topKeys.map((k) => ({ id: k.id, name: k.label, requests: k.requests, tokens: k.tokens, costUsd: formatUsd(k.costMicros) })),
  topModels: r.topModels.map((k) => ({ model: k.id, requests: k.requests, tokens: k.tokens, costUsd: formatUsd(k.costMicros) })),
  limit: r.limit && { spendUsd: formatUsd(r.limit.spendMicros), hardUsd: r.limit.hardMicros === null ? null : formatUsd(r.limit.hardMicros), softUsd: r.limit.softMicros === null ? null : formatUsd(r.limit.softMicros) },
});

function parseReport(t: Tokens): { target: string | null; period: PeriodKind } {
  let target: string | null = null;
  let period: PeriodKind = 'month';
  for (const p of need(t, 0, 'usage show', '', 2)) {
    if ((PERIOD_KINDS as readonly string[]).includes(p.toLowerCase())) period = asUsage(() => parsePeriodKind(p));
    else if (target === null) target = p;
    else throw new UsageError(`usage show got an unexpected argument "${p.slice(0, 40)}"`, 'usage show');
  }
  return { target, period };
}

export const usageCommands: Command[] = [
  command({
    path: ['usage', 'show'],
    args: '[project|org] [day|week|month|quarter]',
    summary: 'Usage and cost: requests, tokens, latency, errors, top keys and models, limits.',
    flags: [],
    examples: ['keyward usage show', 'keyward usage show support-bot week', 'keyward usage show org quarter --json'],
    needs: 'org',
    parse: parseReport,
    async run(ctx, input) {
      const reports = await ctx.services.reports.report(ctx.actor, input.target, input.period);
      if (ctx.json) return ctx.emit({ reports: reports.map(reportJson) });
      if (reports.length === 0) return ctx.print('No projects yet.');
      ctx.print(`Usage · ${reports[0]!.period.key} (${reports[0]!.period.timeZone}), compared with ${reports[0]!.previousKey}`);
      ctx.print(
        table(
          ['NAME', 'REQUESTS', 'TOKENS', 'COST', 'PREVIOUS', 'ERRORS', 'AVG MS', 'P95 MS'],
          reports.map((r) => [
            r.scope.name, formatCount(r.current.requests), formatCount(totalTokensOf(r.current)), formatUsd(r.current.costMicros), formatUsd(r.previous.costMicros),
            `${formatCount(errorCount(r.current.errors))} (${(errorRate(r.current) * 100).toFixed(1)}%)`,
            r.current.latencyAvgMs === null ? '-' : String(Math.round(r.current.latencyAvgMs)), r.current.latencyP95Ms === null ? '-' : String(r.current.latencyP95Ms),
          ]),
        ),
      );
      const one = reports.length === 1 ? reports[0]! : null;
      if (one?.topKeys.length) ctx.print(`Top keys: ${one.topKeys.slice(0, 5).map((k) => `${k.label} ${formatUsd(k.costMicros)}`).join(', ')}`);
      if (one?.topModels.length) ctx.print(`Top models: ${one.topModels.slice(0, 5).map((k) => `${k.label} ${formatUsd(k.costMicros)}`).join(', ')}`);
    },
  }),
  command({
    path: ['usage', 'statement'],
    args: '<project> <YYYY-MM>',
    summary: 'The monthly cost statement as CSV (per key and model) on stdout.',
    flags: [],
    examples: ['keyward usage statement support-bot 2026-10 > october.csv', 'keyward usage statement support-bot 2026-10 --json'],
    needs: 'org',
    parse: (t: Tokens) => {
      const [project, month] = need(t, 2, 'usage statement', 'a project and a month (YYYY-MM)', 2);
      return { project: project!, month: month! };
    },
    async run(ctx, input) {
      const s = await ctx.services.reports.statement(ctx.actor, input.project, input.month);
      if (ctx.json) return ctx.emit({ project: s.project, month: s.month, filename: s.filename, csv: s.csv });
      ctx.print(s.csv.replace(/\r\n$/, ''));
    },
  }),
];
