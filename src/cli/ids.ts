import { clip, UsageError } from './args.js';

// Slack escapes pasted from a message (`<@U123|ana>`, `<#C123|general>`) are accepted as well as bare ids.
const USER = /^(?:<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>|@?([UW][A-Z0-9]{2,}))$/;
const CHANNEL = /^(?:<#([CGD][A-Z0-9]{2,})(?:\|[^>]*)?>|#?([CGD][A-Z0-9]{2,}))$/;

export function parseUserId(raw: string, what = 'user'): string {
  const m = USER.exec(raw.trim().toUpperCase());
  const id = m?.[1] ?? m?.[2];
  if (!id) throw new UsageError(`"${clip(raw)}" is not a Slack ${what} id: use an id like U012ABC3DEF or <@U012ABC3DEF>`);
  return id;
}

export function parseChannelId(raw: string): string {
  const m = CHANNEL.exec(raw.trim().toUpperCase());
  const id = m?.[1] ?? m?.[2];
  if (!id) throw new UsageError(`"${clip(raw)}" is not a Slack channel id: use an id like C012ABC3DEF or <#C012ABC3DEF>`);
  return id;
}
