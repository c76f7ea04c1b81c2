import { expect } from 'vitest';
import { emptyTotals, type UsageTotals } from '../../src/domain/report.js';

/** Slack's Block Kit limits, including section fields and images (usage views use both). */
export function expectBlockKit(blocks: unknown[], surface: 'message' | 'home', text?: string) {
  if (surface === 'message') {
    expect(text && text.length > 0, 'top-level text fallback').toBe(true);
    expect(text!.length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(blocks).length, 'msg_blocks_too_long').toBeLessThan(13_000);
  }
  expect(blocks.length).toBeLessThanOrEqual(surface === 'message' ? 50 : 100);
  for (const b of blocks as Record<string, any>[]) {
    if (b.type === 'section') {
      expect(b.text || b.fields, 'section needs text or fields').toBeTruthy();
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      if (b.fields) {
        expect(b.fields.length).toBeLessThanOrEqual(10);
        for (const f of b.fields) expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    }
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(150);
    if (b.type === 'context') {
      expect(b.elements.length).toBeLessThanOrEqual(10);
      for (const e of b.elements) expect(e.text.length).toBeLessThanOrEqual(3000);
    }
    if (b.type === 'image') expect(b.alt_text.length).toBeLessThanOrEqual(2000);
  }
}

export const text = (blocks: unknown[]) => JSON.stringify(blocks);

export const usd = (n: number) => BigInt(Math.round(n * 1e6));

export const totals = (over: Partial<UsageTotals> = {}): UsageTotals => ({ ...emptyTotals(), ...over });

/** A long, hostile name: 64 characters with mrkdwn/mention syntax. */
export const hostile = (i: number) => `<!channel> *bold* ${i} `.padEnd(64, 'x');
