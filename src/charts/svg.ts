/**
 * A stacked daily bar chart (one colour per project) as an SVG string. Hand-written instead of
 * Vega-Lite: one small pure function, no dependency tree, byte-for-byte deterministic output.
 */
import type { LocalDate } from '../domain/calendar.js';
import { formatCompact } from '../domain/money.js';

export interface ChartSeries {
  name: string;
  /** One value per day: tokens, or micro-dollars when the metric is cost. */
  values: Array<number | bigint>;
}

export interface UsageChartInput {
  title: string;
  subtitle?: string;
  metric: 'tokens' | 'cost';
  days: LocalDate[];
  series: ChartSeries[];
  width?: number;
  height?: number;
}

export const FONT_FAMILY = 'DejaVu Sans';
export const PALETTE = ['#4C6EF5', '#F59F00', '#12B886', '#E64980', '#7950F2', '#15AABF', '#82C91E'];
const OTHER_COLOUR = '#ADB5BD';
/** Series beyond this are merged into "Other" so the legend stays readable. */
export const MAX_SERIES = PALETTE.length;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Axis maximum and step: 1, 2, 2.5 or 5 × 10^k, about 5 gridlines. */
export function niceScale(max: number, minStep = 0): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 1 };
  const rough = max / 5;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(minStep, [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= rough)!);
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

function axisLabel(metric: UsageChartInput['metric'], v: number): string {
  if (metric === 'tokens') return formatCompact(v);
  if (v === 0) return '$0';
  if (v < 10) return `$${v.toFixed(2).replace(/\.?0+$/, '')}`;
  return `$${formatCompact(v)}`;
}

/** Most expensive series first; the rest summed into "Other". */
function topSeries(series: ChartSeries[], length: number): Array<{ name: string; values: number[]; colour: string }> {
  const rows = series.map((s) => ({ name: s.name, values: Array.from({ length }, (_, i) => Number(s.values[i] ?? 0)) }));
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  rows.sort((a, b) => sum(b.values) - sum(a.values) || a.name.localeCompare(b.name));
  const keep = rows.length > MAX_SERIES ? rows.slice(0, MAX_SERIES - 1) : rows;
  const out = keep.map((r, i) => ({ ...r, colour: PALETTE[i]! }));
  if (rows.length > MAX_SERIES) {
    const rest = rows.slice(MAX_SERIES - 1);
    out.push({ name: `Other (${rest.length})`, values: Array.from({ length }, (_, i) => sum(rest.map((r) => r.values[i]!))), colour: OTHER_COLOUR });
  }
  return out;
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export function usageChartSvg(input: UsageChartInput): string {
  const width = input.width ?? 800;
  const height = input.height ?? 400;
  const n = input.days.length;
  const scale = input.metric === 'cost' ? 1e-6 : 1; // micro-dollars → dollars
  const series = topSeries(input.series, n).map((s) => ({ ...s, values: s.values.map((v) => v * scale) }));
  const totals = input.days.map((_, i) => series.reduce((a, s) => a + Math.max(0, s.values[i]!), 0));
  const { max, step } = niceScale(Math.max(0, ...totals), input.metric === 'tokens' ? 1 : 0.01);

  const pad = { left: 64, right: 16, top: input.subtitle ? 58 : 40, bottom: series.length ? 64 : 36 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const slot = plotW / Math.max(1, n);
  const barW = Math.max(1, slot * 0.7);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${pad.left}" y="24" font-size="16" font-weight="bold" fill="#212529">${escapeXml(clip(input.title, 80))}</text>`,
  ];
  if (input.subtitle) out.push(`<text x="${pad.left}" y="44" font-size="12" fill="#868e96">${escapeXml(clip(input.subtitle, 110))}</text>`);

  for (let v = 0; v <= max + 1e-9; v += step) {
    const gy = r1(y(v));
    out.push(`<line x1="${pad.left}" y1="${gy}" x2="${width - pad.right}" y2="${gy}" stroke="${v === 0 ? '#495057' : '#e9ecef'}" stroke-width="1"/>`);
    out.push(`<text x="${pad.left - 6}" y="${r1(gy + 4)}" font-size="11" fill="#495057" text-anchor="end">${escapeXml(axisLabel(input.metric, v))}</text>`);
  }

  const every = Math.max(1, Math.ceil(n / 12));
  input.days.forEach((d, i) => {
    const x = pad.left + i * slot + (slot - barW) / 2;
    let base = 0;
    for (const s of series) {
      const v = Math.max(0, s.values[i]!);
      if (v > 0) out.push(`<rect x="${r1(x)}" y="${r1(y(base + v))}" width="${r1(barW)}" height="${r1(y(base) - y(base + v))}" fill="${s.colour}"/>`);
      base += v;
    }
    if (i % every === 0) {
      const label = i === 0 || d.day === 1 || n <= 7 ? `${MONTHS[d.month - 1]} ${d.day}` : String(d.day);
      out.push(`<text x="${r1(x + barW / 2)}" y="${r1(pad.top + plotH + 16)}" font-size="11" fill="#495057" text-anchor="middle">${label}</text>`);
    }
  });

  if (series.length === 0 || totals.every((t) => t === 0)) {
    out.push(`<text x="${r1(pad.left + plotW / 2)}" y="${r1(pad.top + plotH / 2)}" font-size="14" fill="#868e96" text-anchor="middle">No usage in this period</text>`);
  }

  let lx = pad.left;
  const ly = height - 18;
  for (const s of series) {
    const name = clip(s.name, 24);
    if (lx + 16 + name.length * 7.2 > width - pad.right) {
      out.push(`<text x="${lx}" y="${ly}" font-size="12" fill="#868e96">…</text>`);
      break;
    }
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${s.colour}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}" font-size="12" fill="#212529">${escapeXml(name)}</text>`);
    lx += 16 + Math.ceil(name.length * 7.2) + 18; // DejaVu Sans 12px ≈ 7.2 px per character
  }
  out.push('</svg>');
  return out.join('\n');
}
