import { StringDecoder } from 'node:string_decoder';
import type { TokenUsage } from '../domain/pricing.js';
import { applyUsage } from '../domain/usage.js';

/**
 * Reads usage out of a Messages SSE stream as it passes through, without holding the stream:
 * only `message_start`, `message_delta` and `error` events are parsed; the rest are skipped by
 * looking at their first line.
 */
export class SseUsageTracker {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  sawStart = false;
  sawStop = false;
  errorType: string | null = null;

  constructor(readonly usage: TokenUsage) {}

  feed(chunk: Buffer) {
    this.buf += this.decoder.write(chunk);
    let end: number;
    while ((end = this.buf.indexOf('\n\n')) !== -1) {
      const event = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 2);
      this.event(event);
    }
    // A pathological stream without separators must not grow memory without bound.
    if (this.buf.length > 4_000_000) this.buf = '';
  }

  private event(text: string) {
    const name = text.startsWith('event:') ? text.slice(6, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n')).trim() : '';
    if (name === 'message_stop') this.sawStop = true;
    if (name !== 'message_start' && name !== 'message_delta' && name !== 'error') return;
    const at = text.indexOf('data:');
    if (at === -1) return;
    let data: { message?: { usage?: unknown }; usage?: unknown; error?: { type?: string } };
    try {
      data = JSON.parse(text.slice(at + 5));
    } catch {
      return;
    }
    if (name === 'message_start') {
      this.sawStart = true;
      applyUsage(this.usage, data.message?.usage);
    } else if (name === 'message_delta') applyUsage(this.usage, data.usage);
    else this.errorType = data.error?.type ?? 'api_error';
  }
}
