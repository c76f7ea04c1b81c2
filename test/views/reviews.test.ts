import { describe, expect, it } from 'vitest';
import { DAY } from '../../src/domain/durations.js';
import { closeCampaign, newCampaign, reviewProgress, snapshotItems, type ReviewItem, type SnapshotProject } from '../../src/domain/reviews.js';
import {
  itemLine, reviewClosedMessage, reviewMessage, reviewReminderMessage, reviewStatusMessage, KEEP_ACTION, KEEP_ALL_ACTION, REVOKE_ACTION,
  REVOKE_CALLBACK, revokeStepUpModal,
} from '../../src/slack/views/reviews.js';
import { TOTP_BLOCK } from '../../src/slack/views/twofactor.js';
import { allText, expectWithinLimits } from './limits.js';

const NOW = new Date('2026-04-01T08:00:00Z');
const TZ = 'Europe/Berlin';
const ago = (d: number) => new Date(NOW.getTime() - d * DAY);
const campaign = newCampaign({ orgId: 'org_1', startedBy: 'system', slot: '2026-Q2' }, NOW, TZ);

function project(members: number, keys: number): SnapshotProject {
  return {
    id: 'prj_1',
    name: 'support-bot',
    members: Array.from({ length: members }, (_, i) => ({ userId: `U${String(i).padStart(9, '0')}`, role: i === 0 ? 'admin' as const : 'developer' as const, addedAt: ago(400) })),
    keys: Array.from({ length: keys }, (_, i) => ({
      id: `key_${String(i).padStart(16, '0')}`, name: `Key ${'x'.repeat(50)} ${i}`, ownerId: `U${String(i % Math.max(members, 1)).padStart(9, '0')}`,
      environment: 'prod' as const, createdAt: ago(200), rotatedAt: null, lastUsedAt: i % 2 ? ago(1) : null,
    })),
  };
}
const items = (m: number, k: number) => snapshotItems(campaign.id, project(m, k), new Map([['U000000001', ago(1)]]), NOW);
const dm = (list: readonly ReviewItem[], reviewerId = 'U000000000', c = campaign) =>
  reviewMessage({ campaign: c, projectId: 'prj_1', projectName: 'support-bot', items: list, reviewerId, now: NOW, timeZone: TZ });

describe('review DM', () => {
  it('lists items with Keep/Revoke (value = item id), flags, due date and "keep all remaining"', () => {
    const list = items(3, 2);
    const m = dm(list, 'UREVIEWER');
    const buttons = expectWithinLimits(m);
    const perItem = buttons.filter((b) => b.action_id !== KEEP_ALL_ACTION);
    expect(perItem.map((b) => b.action_id)).toEqual(Array.from({ length: 5 }, () => [KEEP_ACTION, REVOKE_ACTION]).flat());
    expect(new Set(perItem.map((b) => b.value))).toEqual(new Set(list.map((i) => i.id)));
    expect(perItem.filter((b) => b.action_id === REVOKE_ACTION).every((b) => b.confirm)).toBe(true);
    const all = buttons.find((b) => b.action_id === KEEP_ALL_ACTION)!;
    expect(JSON.parse(all.value)).toEqual({ c: campaign.id, p: 'prj_1' });
    const text = allText(m);
    expect(text).toContain('no activity for 90 days');
    expect(text).toContain('older than 90 days');
    expect(text).toContain('2026-04-15');
    expect(m.text).toBe('Access review for support-bot: 5 of 5 items open, due in 14 days (2026-04-15).');
  });
  it('flagged items come first', () => {
    const list = items(3, 0); // U000000001 was active yesterday; the others are flagged
    const sections = (dm(list, 'UX').blocks ?? []).filter((b) => b.type === 'section').map((b) => JSON.stringify(b));
    expect(sections[0]).toContain(':warning:');
    expect(sections[2]).toContain('U000000001');
  });
  it('the reviewer’s own access has no Keep button', () => {
    const list = items(2, 0);
    const buttons = expectWithinLimits(dm(list, 'U000000000'));
    const own = buttons.filter((b) => b.value === list[0]!.id).map((b) => b.action_id);
    expect(own).toEqual([REVOKE_ACTION]);
  });
  it('decided items show the decision instead of buttons; no keep-all when nothing is left', () => {
    const list: ReviewItem[] = items(2, 0).map((i) => ({ ...i, decision: 'keep' as const, decidedBy: 'UREV', decidedAt: NOW }));
    list[1] = { ...list[1]!, decision: 'revoke' };
    const m = dm(list, 'UX');
    expect(expectWithinLimits(m)).toEqual([]);
    expect(allText(m)).toContain(':white_check_mark: Kept by <@UREV>');
    expect(allText(m)).toContain(':x: Revoked by <@UREV>');
  });
  it('a huge project stays within 50 blocks and ~13k characters, and says how many are left', () => {
    const list = items(400, 600);
    const m = dm(list, 'UX');
    const buttons = expectWithinLimits(m);
    expect(buttons.length).toBeGreaterThan(10);
    expect(allText(m)).toMatch(/…\d+ more open items appear here as you decide/);
    const half = list.map((i, n) => (n % 2 ? { ...i, decision: 'keep' as const, decidedBy: 'UREV', decidedAt: NOW } : i));
    expectWithinLimits(dm(half, 'UX'));
  });
  it('after close: no buttons, says who closed it', () => {
    const closed = closeCampaign(campaign, items(2, 1), 'revoke', { id: 'UORG', orgAdmin: true }, NOW);
    if (!closed.ok) throw new Error();
    const m = dm(closed.value.items, 'UX', closed.value.campaign);
    expect(expectWithinLimits(m)).toEqual([]);
    expect(allText(m)).toContain('Closed by <@UORG>');
    expect(allText(m)).toContain('Revoked at close');
  });
  it('the step-up Revoke modal carries the item id and a required code field', () => {
    const [i] = items(0, 1);
    const m = revokeStepUpModal(i!);
    expect(m).toMatchObject({ callback_id: REVOKE_CALLBACK, private_metadata: i!.id });
    expect(m.blocks.map((b) => (b as { block_id?: string }).block_id).filter(Boolean)).toEqual([TOTP_BLOCK]);
    expectWithinLimits(m, 'modal');
  });
  it('escapes key names', () => {
    const [i] = items(0, 1);
    expect(itemLine({ ...i!, label: '<!here> & co' })).toContain('&lt;!here&gt; &amp; co');
  });
});

describe('reminders, status and report', () => {
  it('reminder says how far the due date is and how much is open', () => {
    const m = reviewReminderMessage(campaign, 'support-bot', 3, new Date(NOW.getTime() + 11 * DAY), TZ);
    expect(m.text).toBe('Reminder: the access review for support-bot is due in 3 days (2026-04-15): 3 items still open.');
    expectWithinLimits(m);
  });
  it('status lists progress per project and per reviewer, bounded for big orgs', () => {
    const many: ReviewItem[] = [];
    const reviewers = new Map<string, string[]>();
    for (let p = 0; p < 300; p++) {
      const projectId = `prj_${p}`;
      reviewers.set(projectId, [`UR${p}`, 'UORG']);
      for (const i of items(2, 1)) many.push({ ...i, projectId, projectName: `project-${String(p).padStart(3, '0')}` });
    }
    many[0] = { ...many[0]!, decision: 'keep', decidedBy: 'UORG', decidedAt: NOW };
    const m = reviewStatusMessage(campaign, reviewProgress(many, reviewers), NOW, TZ);
    expectWithinLimits(m);
    const text = allText(m);
    expect(text).toContain('*project-000* · 1/3 decided');
    expect(text).toContain('<@UORG> · 899 open in 300 projects · 1 decided');
    expect(text).toMatch(/and \d+ more projects/);
    expect(m.text).toContain('1 of 900 items decided, due in 14 days (2026-04-15)');
  });
  it('closed report counts revoked and kept', () => {
    const closed = closeCampaign(campaign, items(2, 1), 'revoke', { id: 'UORG', orgAdmin: true }, NOW);
    if (!closed.ok) throw new Error();
    const m = reviewClosedMessage(closed.value.campaign, reviewProgress(closed.value.items, new Map()), closed.value.toRevoke.length);
    expect(m.text).toContain('closed by <@UORG>: 3 items, 3 revoked (3 unreviewed revoked at close), 0 kept');
    expectWithinLimits(m);
  });
});
