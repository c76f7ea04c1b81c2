import { expect } from 'vitest';

/** Asserts Slack's documented Block Kit limits on a message or modal; returns every button found. */
export function expectWithinLimits(m: { text?: string; blocks?: unknown[] }, kind: 'message' | 'modal' = 'message') {
  if (kind === 'message') {
    expect(typeof m.text === 'string' && m.text.length > 0, 'top-level text').toBe(true);
    expect(m.text!.length).toBeLessThanOrEqual(3000);
  }
  const blocks = (m.blocks ?? []) as Record<string, any>[];
  expect(blocks.length).toBeLessThanOrEqual(kind === 'message' ? 50 : 100);
  const buttons: Record<string, any>[] = [];
  const blockIds = new Set<string>();
  for (const b of blocks) {
    if (b.block_id) {
      expect(b.block_id.length).toBeLessThanOrEqual(255);
      expect(blockIds.has(b.block_id), `duplicate block_id ${b.block_id}`).toBe(false);
      blockIds.add(b.block_id);
    }
    if (b.type === 'section') expect(b.text.text.length).toBeLessThanOrEqual(3000);
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(150);
    if (b.type === 'context') for (const e of b.elements) expect(e.text.length).toBeLessThanOrEqual(3000);
    for (const e of b.type === 'actions' ? b.elements : b.accessory ? [b.accessory] : []) {
      expect(e.action_id.length).toBeLessThanOrEqual(255);
      if (e.type === 'button') {
        expect(e.text.text.length).toBeLessThanOrEqual(75);
        expect(String(e.value).length).toBeLessThanOrEqual(2000);
        buttons.push(e);
      }
    }
    if (b.type === 'actions') expect(b.elements.length).toBeLessThanOrEqual(25);
  }
  // Whole messages above ~13k characters can fail with msg_blocks_too_long.
  if (kind === 'message') expect(JSON.stringify(blocks).length).toBeLessThan(13_000);
  return buttons;
}

/** All mrkdwn/plain text of a message, for content checks. */
export const allText = (m: { text?: string; blocks?: unknown[] }) => JSON.stringify(m);
