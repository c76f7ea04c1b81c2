import { describe, expect, it } from 'vitest';
import type { Block, Message } from '../../src/slack/views/common.js';
import { keyDetail, keyList, type KeyRowView } from '../../src/slack/views/keys.js';
import { homeView } from '../../src/slack/views/home.js';
import { keysHelp, keywardHelp, projectHelp } from '../../src/slack/views/help.js';
import { createKeyModal, revokeKeyModal } from '../../src/slack/views/modals.js';
import { projectDetail, projectList, type ProjectRowView } from '../../src/slack/views/projects.js';
import { revealClosed, revealMessage, revealModal, secretEphemeral } from '../../src/slack/views/secrets.js';

const at = new Date('2026-11-26T10:00:00Z');
const key = (i: number, over: Partial<KeyRowView> = {}): KeyRowView => ({
  id: `key_${String(i).padStart(16, '0')}`, name: `Key ${'n'.repeat(50)} ${i}`, projectName: 'project-with-a-long-name',
  scope: 'inference', environment: 'prod', ownerId: 'U0123456789', status: 'active', hint: 'sk-kw-…abcd',
  createdAt: at, expiresAt: at, lastUsedAt: null, ...over,
});
const project = (i: number): ProjectRowView => ({
  name: `project-${i}`, description: 'd'.repeat(300), archivedAt: null, alertChannelId: null, myRole: 'developer', memberCount: 3, activeKeys: i,
});

/** Block Kit limits every message here must keep. */
function withinLimits(blocks: Block[], maxBlocks: number) {
  expect(blocks.length).toBeLessThanOrEqual(maxBlocks);
  for (const b of blocks) {
    const text = (b as { text?: { text: string } }).text?.text;
    if (text !== undefined) expect(text.length).toBeLessThanOrEqual(b.type === 'header' ? 150 : 3000);
    for (const e of (b as { elements?: { text?: string | { text: string } }[] }).elements ?? []) {
      const t = typeof e.text === 'string' ? e.text : e.text?.text;
      if (t !== undefined) expect(t.length).toBeLessThanOrEqual(3000);
    }
  }
}
const hasFallback = (m: Message) => expect(m.text.trim().length).toBeGreaterThan(0);

describe('Block Kit views', () => {
  it('a key list of 500 long rows stays within limits, names ids, and pages', () => {
    const keys = Array.from({ length: 500 }, (_, i) => key(i));
    const m = keyList(keys);
    hasFallback(m);
    withinLimits(m.blocks!, 50);
    expect(m.text).toContain(keys[0]!.id);
    expect(JSON.stringify(m.blocks).length).toBeLessThan(13_000 * 2);
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('Showing 1–');
    expect(json).toContain('"Next"');
    const last = keyList(keys, { offset: 480 });
    expect(JSON.stringify(last.blocks)).toContain('of 500');
    expect(JSON.stringify(last.blocks)).not.toContain('"Next"');
    expect(JSON.stringify(last.blocks)).toContain('"Previous"');
  });

  it('escapes user text so names cannot inject mentions or links', () => {
    const m = keyDetail(key(1, { name: '<!channel> hi', revokedAt: at, revokeReason: '<https://evil|click>' }));
    // plain_text (the header) never renders mentions; mrkdwn must be escaped.
    const json = JSON.stringify(m.blocks!.filter((b) => b.type !== 'header'));
    expect(json).not.toContain('<!channel>');
    expect(json).toContain('&lt;https://evil');
    expect(json).not.toContain('<https://evil');
    expect(m.text).toContain('key_0000000000000001');
  });

  it('project lists and details stay within limits with many rows', () => {
    const m = projectList(Array.from({ length: 1000 }, (_, i) => project(i)), false);
    hasFallback(m);
    withinLimits(m.blocks!, 50);
    expect(JSON.stringify(m.blocks)).toContain('more');
    const d = projectDetail({
      project: { name: 'big', description: 'x'.repeat(500), alertChannelId: 'C1', archivedAt: null, createdAt: at, createdBy: 'slack:U1' },
      members: Array.from({ length: 500 }, (_, i) => ({ userId: `U${i}`, role: i % 3 === 0 ? 'admin' : 'developer' })),
      activeKeys: 3,
    });
    withinLimits(d.blocks!, 50);
    expect(JSON.stringify(d.blocks)).toContain('…and');
  });

  it('App Home stays within 100 blocks with many projects and keys', () => {
    const v = homeView({
      userId: 'U1', orgAdmin: false,
      projects: Array.from({ length: 400 }, (_, i) => project(i)),
      myKeys: Array.from({ length: 400 }, (_, i) => key(i)),
    });
    expect(v.type).toBe('home');
    withinLimits(v.blocks as Block[], 100);
    expect(JSON.stringify(v.blocks)).toContain('key_0000000000000000');
  });

  it('help texts have fallbacks and fit', () => {
    for (const m of [projectHelp(), keysHelp(), keywardHelp()]) {
      hasFallback(m);
      withinLimits(m.blocks!, 50);
    }
  });

  it('modals keep titles ≤ 24 chars, ≤ 100 options and their metadata', () => {
    const modal = createKeyModal(Array.from({ length: 150 }, (_, i) => `p-${i}`), { r: 'https://hooks.slack.test/x' });
    expect(modal.title.text.length).toBeLessThanOrEqual(24);
    const select = modal.blocks.find((b) => (b as { block_id?: string }).block_id === 'project') as { element: { options: unknown[] } };
    expect(select.element.options).toHaveLength(100);
    expect(JSON.parse(modal.private_metadata!)).toEqual({ r: 'https://hooks.slack.test/x' });
    const one = createKeyModal(['only'], {});
    expect(JSON.stringify(one)).toContain('initial_option');
    const revoke = revokeKeyModal({ id: 'key_abcdefgh', name: 'n', projectName: 'p' }, { k: 'key_abcdefgh' });
    expect(JSON.stringify(revoke.blocks)).toContain('key_abcdefgh');
  });

  it('only the ephemeral and the reveal modal carry the secret; the others name the key id', () => {
    const secret = `sk-kw-${'A'.repeat(40)}`;
    const k = { id: 'key_abcdefgh', name: 'App', projectName: 'p' };
    expect(JSON.stringify(secretEphemeral(k, secret, 'created'))).toContain(secret);
    expect(JSON.stringify(revealModal(k.id, secret))).toContain(secret);
    for (const m of [revealMessage(k, 'rvl_1', at, 'created'), revealClosed(k.id, 'revealed', at), revealClosed(k.id, 'expired', at)]) {
      expect(JSON.stringify(m)).not.toContain('sk-kw-A');
      expect(m.text).toContain(k.id);
    }
  });
});
