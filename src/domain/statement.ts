/**
 * Monthly cost statement as CSV (RFC 4180: CRLF, quoted when needed), one row per key and model,
 * then a total. Costs are exact decimal dollars from micro-dollars so rows add up to the total.
 */
import { microsToDecimal } from './money.js';

export interface StatementRow {
  keyId: string;
  keyName: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicros: bigint;
}

export const STATEMENT_COLUMNS = [
  'month',
  'project',
  'key_id',
  'key_name',
  'model',
  'requests',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'cost_usd',
] as const;

/**
 * One CSV field. Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is
 * prefixed with ' (OWASP CSV injection); numbers are written as they are.
 */
export function csvField(value: string | number | bigint, text = typeof value === 'string'): string {
  let s = String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A line of text columns followed by numeric columns (numbers are never formula-escaped). */
export const csvLine = (texts: string[], numbers: Array<string | number | bigint> = []) =>
  [...texts.map((t) => csvField(t, true)), ...numbers.map((n) => csvField(n, false))].join(',');

export function statementCsv(input: { month: string; project: string; rows: StatementRow[] }): string {
  const rows = [...input.rows].sort((a, b) => a.keyName.localeCompare(b.keyName) || a.keyId.localeCompare(b.keyId) || a.model.localeCompare(b.model));
  const total = rows.reduce(
    (t, r) => ({
      requests: t.requests + r.requests,
      input: t.input + r.inputTokens,
      output: t.output + r.outputTokens,
      cacheRead: t.cacheRead + r.cacheReadTokens,
      cacheWrite: t.cacheWrite + r.cacheWriteTokens,
      cost: t.cost + r.costMicros,
    }),
    { requests: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cost: 0n },
  );
  const lines = [
    STATEMENT_COLUMNS.join(','),
    ...rows.map((r) =>
      csvLine([input.month, input.project, r.keyId, r.keyName, r.model], [r.requests, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, microsToDecimal(r.costMicros)]),
    ),
    csvLine([input.month, input.project, 'TOTAL', '', ''], [total.requests, total.input, total.output, total.cacheRead, total.cacheWrite, microsToDecimal(total.cost)]),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** "keyward-web-app-2026-11.csv": safe on every file system. */
export function statementFilename(project: string, month: string): string {
  const slug = project.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'project';
  return `keyward-${slug}-${month}.csv`;
}
