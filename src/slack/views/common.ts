/** Block Kit building blocks shared by every view. Pure: data in, JSON out. */
import type { types } from '@slack/bolt';
import type { Message } from '../../services/notifier.js';

export type Block = types.KnownBlock;
export type ModalView = types.ModalView;
export type HomeView = types.HomeView;

/** What an ephemeral answer carries: the notifier port's message, so views post through it as they are. */
export type { Message };

export const LIMITS = { messageBlocks: 50, homeBlocks: 100, modalBlocks: 100, sectionText: 3000, header: 150, plainTitle: 24 };

/** Cuts text to `max` characters, marking the cut. */
export const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Escapes user-provided text for mrkdwn (`&`, `<`, `>`), so names cannot inject mentions or links. */
export const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * mrkdwn markers that format text (bold, italic, strike, code) swapped for look-alikes that do not,
 * so someone's words cannot render as keyward's own bold field labels.
 */
const MARKERS: Record<string, string> = { '*': '\u2217', _: '\u02cd', '~': '\u223c', '`': '\u02cb' };
const neutralise = (text: string) => text.replace(/[*_~`]/g, (c) => MARKERS[c]!);
const LINE_BREAKS = /[\r\n\u2028\u2029\u0085\v\f]+/g;

/**
 * User text (reasons, notes, descriptions) inside one line of keyward's own text: line breaks
 * collapsed, mentions/links escaped and formatting markers neutralised, so it cannot start a line
 * or look like a field such as `*Environment:* prod`.
 */
export const inline = (text: string, max = 500) => esc(neutralise(truncate(text.replace(LINE_BREAKS, ' ').replace(/\s+/g, ' ').trim(), max)));

/** Multi-line user text as a quote block: every line starts with `>`, so none can pass for keyward's. */
export const quoted = (text: string, maxLines = 12) => {
  const lines = text.trim().split(LINE_BREAKS).map((l) => l.replace(/\s+/g, ' ').trim()).filter(Boolean);
  const shown = lines.slice(0, maxLines).map((l) => `>${esc(neutralise(truncate(l, 500)))}`);
  if (lines.length > maxLines) shown.push(`>… ${lines.length - maxLines} more lines`);
  return shown.join('\n');
};

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
