/**
 * Monthly cost statement: on the 1st, last month's CSV (per key and model) for every project with
 * usage, uploaded to the project's channel. `/usage statement` produces any month on demand.
 */
import { periodOf, previousPeriod } from '../domain/calendar.js';
import { statementCsv, statementFilename } from '../domain/statement.js';
import { formatUsd } from '../domain/money.js';
import { statementRows } from '../services/reports.js';
import { dbOf, logOf, tzOf, type JobDeps, type JobResult } from './context.js';
import { channelFor } from './recipients.js';

export async function runStatements(now: Date, deps: JobDeps): Promise<JobResult> {
  if (!deps.notifier) {
    logOf(deps).debug('statements skipped: no Slack bot token');
    return { lines: [] };
  }
  const db = dbOf(deps);
  const month = previousPeriod(periodOf('month', now, tzOf(deps)));
  const lines: string[] = [];
  for (const p of await db.project.findMany({ where: { archivedAt: null }, orderBy: { name: 'asc' } })) {
    const rows = await statementRows(db, p.id, month);
    if (rows.length === 0) continue;
    const channel = await channelFor(deps, p.orgId, p.id);
    if (!channel) {
      lines.push(`no channel for ${p.name}: statement ${month.key} not posted`);
      continue;
    }
    const total = rows.reduce((s, r) => s + r.costMicros, 0n);
    try {
      await deps.notifier.upload({
        channel,
        filename: statementFilename(p.name, month.key),
        title: `keyward statement ${p.name} ${month.key}`,
        content: statementCsv({ month: month.key, project: p.name, rows }),
        comment: `Cost statement of *${p.name}* for ${month.key}: ${formatUsd(total)} (per key and model).`,
      });
      lines.push(`${deps.dryRun ? 'would upload' : 'uploaded'} statement ${month.key} of ${p.name} to <#${channel}> (${formatUsd(total)})`);
    } catch (error) {
      logOf(deps).warn({ project: p.name, error: String(error) }, 'statement could not be uploaded');
      lines.push(`statement of ${p.name} failed: ${String(error)}`);
    }
  }
  return { lines };
}
