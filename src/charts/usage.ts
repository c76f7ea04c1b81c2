/** The daily usage chart as a PNG, for the digest and `/usage`. */
import { periodLabel, type Period } from '../domain/calendar.js';
import type { DailyPoint } from './data.js';

/** Renders the chart; the renderer (resvg, fonts) is loaded only when a chart is drawn. */
export async function chartPng(period: Period, points: DailyPoint[], metric: 'cost' | 'tokens' = 'cost'): Promise<Buffer> {
  const [{ chartFromDaily }, { renderUsageChart }] = await Promise.all([import('./data.js'), import('./png.js')]);
  return renderUsageChart(chartFromDaily({ title: `Daily ${metric} per project`, subtitle: `${periodLabel(period)} (${period.timeZone})`, period, metric, points }));
}
