/** Block Kit building blocks shared by every view. Pure: data in, JSON out. */
import type { types } from '@slack/bolt';

export type Block = types.KnownBlock;
export type ModalView = types.ModalView;
export type HomeView = types.HomeView;

/** What an ephemeral answer carries: the `text` fallback is always set. */
export interface Message {
  text: string;
  blocks?: Block[];
}

export const LIMITS = { messageBlocks: 50, homeBlocks: 100, modalBlocks: 100, sectionText: 3000, header: 150, plainTitle: 24 };

/** Cuts text to `max` characters, marking the cut. */
export const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Escapes user-provided text for mrkdwn (`&`, `<`, `>`), so names cannot inject mentions or links. */
export const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const section = (text: string): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) },
});

export const header = (text: string): Block => ({
  type: 'header',
  text: { type: 'plain_text', text: truncate(text, LIMITS.header), emoji: true },
});

export const context = (text: string): Block => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) }],
});

export const divider = (): Block => ({ type: 'divider' });

export const plain = (text: string, max = 75) => ({ type: 'plain_text' as const, text: truncate(text, max), emoji: true });

/** A date every reader sees in their own time zone (with an ISO fallback). */
export function slackDate(d: Date | null | undefined, none = 'never'): string {
  if (!d) return none;
  const iso = d.toISOString().replace('.000Z', 'Z');
  return `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

/** A one-line answer. */
export const note = (text: string): Message => ({ text, blocks: [section(text)] });

/** Guarantees the message limit: extra blocks are cut and the cut is said. */
export function fitMessage(text: string, blocks: Block[], max = LIMITS.messageBlocks): Message {
  if (blocks.length <= max) return { text: truncate(text, 3000), blocks };
  return {
    text: truncate(text, 3000),
    blocks: [...blocks.slice(0, max - 1), context(`…${blocks.length - max + 1} more blocks not shown.`)],
  };
}

export const roleName = (role: string | null, orgAdmin = false) =>
  role ? role[0]!.toUpperCase() + role.slice(1) : orgAdmin ? 'Org admin' : '—';
