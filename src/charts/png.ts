/**
 * SVG → PNG in-process with resvg (prebuilt native binary from npm; no browser, no network).
 * Fonts come from the `dejavu-fonts-ttf` package, not the system, so text renders the same on
 * machines without fonts; system fonts are not loaded, which also keeps output deterministic.
 */
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import { FONT_FAMILY, usageChartSvg, type UsageChartInput } from './svg.js';

const require = createRequire(import.meta.url);
export const FONT_FILES = [require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'), require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf')];

export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    fitTo: { mode: 'original' },
    background: '#ffffff',
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

/** Daily tokens or cost per project as a PNG (default 800×400). */
export const renderUsageChart = (input: UsageChartInput): Buffer => svgToPng(usageChartSvg(input));

export { usageChartSvg, type UsageChartInput, type ChartSeries } from './svg.js';

/** Width and height from a PNG's IHDR chunk, or null when `png` is not a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } | null {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (png.length < 24 || !png.subarray(0, 8).equals(signature) || png.toString('ascii', 12, 16) !== 'IHDR') return null;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
