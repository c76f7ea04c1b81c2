/**
 * The one port services and jobs use to talk to Slack (flows.md §5): post to a channel, DM a user,
 * update a message, upload a file. Slack failures come out as NotifyError with Slack's error code,
 * so callers can classify them (classifySlackError) without knowing @slack/web-api.
 */
import type { KnownBlock, WebClient } from '@slack/web-api';

/** What the port posts: Block Kit JSON with the plain `text` fallback always set. Slack's views build it. */
export interface Message {
  text: string;
  blocks?: KnownBlock[];
}

export interface Posted {
  channel: string;
  ts: string;
}

export interface UploadInput {
  /** Where the file is shared; without one it stays private to the bot (e.g. shown in a modal only). */
  channel?: string;
  filename: string;
  title: string;
  content: Buffer | string;
  comment?: string;
  threadTs?: string;
}

export interface SlackNotifier {
  post(channel: string, message: Message): Promise<Posted>;
  dm(userId: string, message: Message): Promise<Posted>;
  update(channel: string, ts: string, message: Message): Promise<void>;
  /** files.getUploadURLExternal → POST the bytes → files.completeUploadExternal (shared to `channel`). */
  upload(input: UploadInput): Promise<{ fileId: string }>;
  /** files.delete; a file already gone counts as deleted. */
  deleteFile(fileId: string): Promise<void>;
}

/** A Slack refusal or transport failure. `code` is Slack's error ("not_in_channel", "ratelimited"…). */
export class NotifyError extends Error {
  constructor(
    readonly code: string,
    readonly retryAfterMs?: number,
  ) {
    super(`Slack: ${code}`);
    this.name = 'NotifyError';
  }
}

/** web-api errors → NotifyError: platform errors keep Slack's code, rate limits carry Retry-After. */
export function toNotifyError(error: unknown): NotifyError {
  if (error instanceof NotifyError) return error;
  const e = error as { code?: string; data?: { error?: string }; retryAfter?: number };
  if (e?.code === 'slack_webapi_platform_error' && e.data?.error) return new NotifyError(e.data.error);
  if (e?.code === 'slack_webapi_rate_limited_error') return new NotifyError('ratelimited', (e.retryAfter ?? 30) * 1000);
  // Request errors (network, timeout) and HTTP errors are transient.
  return new NotifyError('request_timeout');
}

export class WebClientNotifier implements SlackNotifier {
  constructor(private readonly client: WebClient) {}

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toNotifyError(error);
    }
  }

  async post(channel: string, message: Message): Promise<Posted> {
    const r = await this.call(() => this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false }));
    return { channel: r.channel ?? channel, ts: r.ts ?? '' };
  }

  async dm(userId: string, message: Message): Promise<Posted> {
    const open = await this.call(() => this.client.conversations.open({ users: userId }));
    const channel = open.channel?.id;
    if (!channel) throw new NotifyError('channel_not_found');
    return this.post(channel, message);
  }

  async update(channel: string, ts: string, message: Message): Promise<void> {
    await this.call(() => this.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks }));
  }

  async upload(input: UploadInput): Promise<{ fileId: string }> {
    const bytes = typeof input.content === 'string' ? Buffer.from(input.content, 'utf8') : input.content;
    const url = await this.call(() => this.client.files.getUploadURLExternal({ filename: input.filename, length: bytes.length }));
    if (!url.upload_url || !url.file_id) throw new NotifyError('upload_failed');
    let res: Response;
    try {
      res = await fetch(url.upload_url, { method: 'POST', body: new Uint8Array(bytes), signal: AbortSignal.timeout(30_000) });
    } catch {
      throw new NotifyError('request_timeout');
    }
    if (!res.ok) throw new NotifyError(res.status >= 500 ? 'service_unavailable' : 'upload_failed');
    await this.call(() =>
      this.client.files.completeUploadExternal({
        files: [{ id: url.file_id!, title: input.title }],
        ...(input.channel ? { channel_id: input.channel } : {}),
        ...(input.comment ? { initial_comment: input.comment } : {}),
        ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
      } as Parameters<WebClient['files']['completeUploadExternal']>[0]),
    );
    return { fileId: url.file_id };
  }

  async deleteFile(fileId: string): Promise<void> {
    try {
      await this.call(() => this.client.files.delete({ file: fileId }));
    } catch (error) {
      if ((error as NotifyError).code !== 'file_not_found' && (error as NotifyError).code !== 'file_deleted') throw error;
    }
  }
}

/** Records everything instead of sending: tests, and `/keyward run <job> --dry-run`. */
export class RecordingNotifier implements SlackNotifier {
  readonly sent: Array<{ kind: 'post' | 'dm' | 'update' | 'upload' | 'delete'; to: string; message?: Message; file?: { filename: string; title: string; bytes: number } }> = [];
  /** Tests: make the next calls to a destination fail with a Slack code. */
  readonly failures = new Map<string, string[]>();
  private seq = 0;

  private fail(to: string) {
    const queue = this.failures.get(to);
    const code = queue?.shift();
    if (code) throw new NotifyError(code);
  }

  async post(channel: string, message: Message): Promise<Posted> {
    this.fail(channel);
    this.sent.push({ kind: 'post', to: channel, message });
    return { channel, ts: `${++this.seq}.0001` };
  }
  async dm(userId: string, message: Message): Promise<Posted> {
    this.fail(userId);
    this.sent.push({ kind: 'dm', to: userId, message });
    return { channel: `D${userId}`, ts: `${++this.seq}.0001` };
  }
  async update(channel: string, ts: string, message: Message): Promise<void> {
    this.fail(channel);
    this.sent.push({ kind: 'update', to: `${channel}/${ts}`, message });
  }
  async upload(input: UploadInput): Promise<{ fileId: string }> {
    this.fail(input.channel ?? '');
    const bytes = typeof input.content === 'string' ? Buffer.byteLength(input.content) : input.content.length;
    this.sent.push({ kind: 'upload', to: input.channel ?? '', file: { filename: input.filename, title: input.title, bytes } });
    return { fileId: `F${++this.seq}` };
  }
  async deleteFile(fileId: string): Promise<void> {
    this.fail(fileId);
    this.sent.push({ kind: 'delete', to: fileId });
  }
}
