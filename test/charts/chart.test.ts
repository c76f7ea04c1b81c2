import { inflateSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chartFromDaily } from '../../src/charts/data.js';
import { FONT_FILES, pngSize, renderUsageChart, svgToPng } from '../../src/charts/png.js';
import { escapeXml, MAX_SERIES, niceScale, usageChartSvg, type UsageChartInput } from '../../src/charts/svg.js';
import { daysOf, periodOf } from '../../src/domain/calendar.js';

const november = daysOf(periodOf('month', new Date('2026-11-15T00:00:00Z'), 'Europe/Berlin'));
const input = (over: Partial<UsageChartInput> = {}): UsageChartInput => ({
  title: 'Daily cost per project',
  subtitle: 'November 2026',
  metric: 'cost',
  days: november,
  series: [
    { name: 'web', values: november.map((_, i) => BigInt(1_000_000 * (i + 1))) },
    { name: 'data', values: november.map(() => 2_500_000n) },
  ],
  ...over,
});

/** Minimal PNG decoder: chunks, CRC-free walk, inflated scanlines of the expected size. */
function decode(png: Buffer) {
  let offset = 8;
  const idat: Buffer[] = [];
  let ihdr: Buffer | null = null;
  let ended = false;
  while (offset < png.length) {
    const len = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + len);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    if (type === 'IEND') ended = true;
    offset += 12 + len;
  }
  const width = ihdr!.readUInt32BE(0);
  const height = ihdr!.readUInt32BE(4);
  const colourType = ihdr![9]!;
  const channels = { 2: 3, 6: 4 }[colourType as 2 | 6];
  const raw = inflateSync(Buffer.concat(idat));
  return { width, height, bitDepth: ihdr![8], colourType, ended, rawLength: raw.length, expected: height * (1 + width * channels!) };
}

describe('chart PNG', () => {
  it('decodes as a PNG of the requested size', () => {
    const png = renderUsageChart(input({ width: 640, height: 320 }));
    expect(pngSize(png)).toEqual({ width: 640, height: 320 });
    const d = decode(png);
    expect(d).toMatchObject({ width: 640, height: 320, bitDepth: 8, ended: true });
    expect(d.rawLength).toBe(d.expected);
    expect(pngSize(renderUsageChart(input()))).toEqual({ width: 800, height: 400 });
  });

  it('is deterministic for the same input and changes with the data', () => {
    const a = renderUsageChart(input());
    expect(renderUsageChart(input()).equals(a)).toBe(true);
    const other = input();
    other.series[0]!.values[3] = 99_000_000n;
    expect(renderUsageChart(other).equals(a)).toBe(false);
  });

  it('draws text with the bundled font (the title changes the pixels)', () => {
    for (const f of FONT_FILES) expect(existsSync(f)).toBe(true);
    expect(FONT_FILES[0]).toMatch(/node_modules\/dejavu-fonts-ttf\/ttf\/DejaVuSans\.ttf$/);
    const a = renderUsageChart(input({ title: 'AAAA', series: [] }));
    const b = renderUsageChart(input({ title: 'BBBB', series: [] }));
    expect(a.equals(b)).toBe(false);
  });

  it('renders an empty period and refuses garbage', () => {
    const png = renderUsageChart(input({ days: november.slice(0, 7), series: [], metric: 'tokens' }));
    expect(pngSize(png)).toEqual({ width: 800, height: 400 });
    expect(pngSize(Buffer.from('not a png at all, really not'))).toBeNull();
    expect(() => svgToPng('<svg')).toThrow();
  });
});

describe('chart SVG', () => {
  it('escapes names and titles', () => {
    const svg = usageChartSvg(input({ title: 'A & <B>', series: [{ name: '"x" <script>', values: [1_000_000n] }] }));
    expect(svg).toContain('A &amp; &lt;B&gt;');
    expect(svg).toContain('&quot;x&quot; &lt;script&gt;');
    expect(svg).not.toContain('<script>');
    expect(escapeXml(`'`)).toBe('&apos;');
  });

  it('stacks one bar segment per non-zero value and labels cost in dollars', () => {
    const svg = usageChartSvg(input());
    const rects = svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#[0-9A-F]+"/g) ?? [];
    const legend = rects.filter((r) => r.includes('width="12" height="12"'));
    expect(legend).toHaveLength(2);
    expect(rects.length - legend.length).toBe(30 * 2);
    // Max stack is $32.50 → axis to $40 in $10 steps.
    expect(svg).toContain('>$40<');
    expect(svg).toContain('>$10<');
    expect(svg).not.toContain('>$50<');
    expect(svg).toContain('>Nov 1<');
  });

  it('merges series beyond the palette into "Other", keeping the biggest', () => {
    const series = Array.from({ length: 10 }, (_, k) => ({ name: `p${k}`, values: [BigInt((k + 1) * 1000)] }));
    const svg = usageChartSvg(input({ days: november.slice(0, 1), series, metric: 'tokens' }));
    expect(svg).toContain('>p9<');
    expect(svg).toContain(`>Other (${10 - (MAX_SERIES - 1)})<`);
    expect(svg).not.toContain('>p0<');
    expect(svg).toContain('>60k<'); // 55k stacked → 0, 20k, 40k, 60k
  });

  it('says when there is no usage', () => {
    expect(usageChartSvg(input({ series: [] }))).toContain('No usage in this period');
    expect(usageChartSvg(input({ series: [{ name: 'web', values: [0n] }] }))).toContain('No usage in this period');
    expect(usageChartSvg(input())).not.toContain('No usage in this period');
  });

  it('picks round axis steps', () => {
    expect(niceScale(32.5)).toEqual({ max: 40, step: 10 });
    expect(niceScale(0.42, 0.01)).toEqual({ max: 0.5, step: 0.1 });
    expect(niceScale(1234)).toEqual({ max: 1250, step: 250 });
    expect(niceScale(0)).toEqual({ max: 1, step: 1 });
    expect(niceScale(3, 1)).toEqual({ max: 3, step: 1 });
    expect(niceScale(100)).toEqual({ max: 100, step: 20 });
  });
});

describe('chart data from daily rollups', () => {
  it('puts each project on its own series, summing rows per local day and ignoring other days', () => {
    const week = periodOf('week', new Date('2026-11-26T00:00:00Z'), 'Europe/Berlin');
    const c = chartFromDaily({
      title: 't',
      period: week,
      metric: 'cost',
      points: [
        { day: '2026-11-23', project: 'web', tokens: 5, costMicros: 1_000_000n },
        { day: '2026-11-23', project: 'web', tokens: 5, costMicros: 500_000n },
        { day: '2026-11-29', project: 'data', tokens: 1, costMicros: 2n },
        { day: '2026-11-30', project: 'web', tokens: 9, costMicros: 9n },
      ],
    });
    expect(c.days).toHaveLength(7);
    expect(c.series).toEqual([
      { name: 'web', values: [1_500_000n, 0n, 0n, 0n, 0n, 0n, 0n] },
      { name: 'data', values: [0n, 0n, 0n, 0n, 0n, 0n, 2n] },
    ]);
    const tokens = chartFromDaily({ title: 't', period: week, metric: 'tokens', points: [{ day: '2026-11-24', project: 'web', tokens: 7, costMicros: 1n }] });
    expect(tokens.series[0]!.values).toEqual([0, 7, 0, 0, 0, 0, 0]);
  });
});
