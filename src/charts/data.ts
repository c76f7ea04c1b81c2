/** Turns daily rollup rows into chart input: one series per project, one value per local day. */
import { dateKey, daysOf, type Period } from '../domain/calendar.js';
import type { ChartSeries, UsageChartInput } from './svg.js';

export interface DailyPoint {
  /** Local day "2026-11-26" (the rollup's day key, org time zone). */
  day: string;
  project: string;
  tokens: number;
  costMicros: bigint;
}

export function chartFromDaily(input: { title: string; subtitle?: string; period: Period; metric: 'tokens' | 'cost'; points: DailyPoint[] }): UsageChartInput {
  const days = daysOf(input.period);
  const index = new Map(days.map((d, i) => [dateKey(d), i]));
  const byProject = new Map<string, Array<number | bigint>>();
  for (const p of input.points) {
    const i = index.get(p.day);
    if (i === undefined) continue; // outside the period
    let values = byProject.get(p.project);
    if (!values) byProject.set(p.project, (values = days.map(() => (input.metric === 'cost' ? 0n : 0))));
    if (input.metric === 'cost') values[i] = (values[i] as bigint) + p.costMicros;
    else values[i] = (values[i] as number) + p.tokens;
  }
  const series: ChartSeries[] = [...byProject].map(([name, values]) => ({ name, values }));
  return { title: input.title, subtitle: input.subtitle, metric: input.metric, days, series };
}
