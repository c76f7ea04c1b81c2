import { StringDecoder } from 'node:string_decoder';
import type { TokenUsage } from '../domain/pricing.js';
import { applyUsage, type StreamTally } from '../domain/usage.js';

/**
 * The JSON around a text delta's text, the smallest frame of any content delta: what a delta event
 * carries beyond it is streamed content (JSON escapes only make it look longer, never shorter).
 */
const DELTA_FRAME = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}'.length;
/** English text averages about 4 bytes per token; 3 errs on the side of more tokens, as for input. */
const BYTES_PER_TOKEN = 3;
const BLOCK_TYPE = '"content_block":{"type":"';

/** `name` is the event name at `at` (followed by the end of the line). */
const isEvent = (buf: string, at: number, name: string) => {
  if (!buf.startsWith(name, at)) return false;
  const next = buf.charCodeAt(at + name.length);
  return next === 10 || next === 13 || Number.isNaN(next);
};

/**
 * Reads usage out of a Messages SSE stream as it passes through, without holding the stream.
 * `message_start`, `message_delta` and `error` are parsed; content deltas and block starts are
 * only measured (no parsing), so that a stream that never reaches its final `message_delta` can be
 * charged for what it streamed (see billableUsage); everything else is skipped by its first line.
 */
export class SseUsageTracker implements StreamTally {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  /** The pending text is plain ASCII: its bytes are its length (no UTF-8 measuring per event). */
  private ascii = true;
  sawStart = false;
  /** The final `message_delta` (cumulative usage) arrived. */
  sawDelta = false;
  sawStop = false;
  errorType: string | null = null;
  output = 0;
  toolInput = 0;
  webSearches = 0;

  constructor(readonly usage: TokenUsage) {}

  feed(chunk: Buffer) {
    const text = this.decoder.write(chunk);
    this.ascii = (this.buf === '' || this.ascii) && text.length === chunk.length;
    const buf = this.buf === '' ? text : this.buf + text;
    let start = 0;
    let end: number;
    while ((end = buf.indexOf('\n\n', start)) !== -1) {
      this.event(buf, start, end);
      start = end + 2;
    }
    this.buf = start === 0 ? buf : buf.slice(start);
    // A pathological stream without separators must not grow memory without bound.
    if (this.buf.length > 4_000_000) this.buf = '';
  }

  /** The stream stopped: an event cut off midway was still passed on to the client, so it counts too. */
  end() {
    if (this.buf !== '') this.event(this.buf, 0, this.buf.length);
    this.buf = '';
  }

  private event(buf: string, start: number, end: number) {
    if (!buf.startsWith('event:', start)) return;
    let at = start + 6;
    if (buf.charCodeAt(at) === 32) at++;
    if (isEvent(buf, at, 'content_block_delta')) this.output += tokens(this.bytesOfData(buf, at, end) - DELTA_FRAME);
    else if (isEvent(buf, at, 'content_block_start')) this.blockStart(buf, at, end);
    else if (isEvent(buf, at, 'message_stop')) this.sawStop = true;
    else if (isEvent(buf, at, 'message_start')) {
      const data = parseData(buf, at, end) as { message?: { usage?: unknown } } | null;
      if (!data) return;
      this.sawStart = true;
      applyUsage(this.usage, data.message?.usage);
    } else if (isEvent(buf, at, 'message_delta')) {
      const data = parseData(buf, at, end) as { usage?: unknown } | null;
      if (!data) return;
      this.sawDelta = true;
      applyUsage(this.usage, data.usage);
    } else if (isEvent(buf, at, 'error')) {
      const data = parseData(buf, at, end) as { error?: { type?: string } } | null;
      this.errorType = data?.error?.type ?? 'api_error';
    }
  }

  /**
   * Text, thinking and tool-use blocks start empty (their content comes as deltas); a server tool
   * call may be a billed web search; redacted thinking is output; any other block is the result of
   * a tool run upstream (search results, fetched pages, code output), read by the model as input.
   */
  private blockStart(buf: string, at: number, end: number) {
    const typeAt = buf.indexOf(BLOCK_TYPE, at);
    if (typeAt === -1 || typeAt > end) return;
    const t = typeAt + BLOCK_TYPE.length;
    if (buf.startsWith('text"', t) || buf.startsWith('thinking"', t) || buf.startsWith('tool_use"', t) || buf.startsWith('mcp_tool_use"', t)) return;
    if (buf.startsWith('server_tool_use"', t)) {
      const name = buf.indexOf('"name":"web_search"', t);
      if (name !== -1 && name < end) this.webSearches++;
      return;
    }
    const size = tokens(this.bytesOfData(buf, at, end));
    if (buf.startsWith('redacted_thinking"', t)) this.output += size;
    else this.toolInput += size;
  }

  /** UTF-8 bytes of an event's data. */
  private bytesOfData(buf: string, at: number, end: number) {
    let data = buf.indexOf('data:', at);
    if (data === -1 || data > end) return 0;
    data += buf.charCodeAt(data + 5) === 32 ? 6 : 5;
    return this.ascii ? end - data : Buffer.byteLength(buf.slice(data, end));
  }
}

/** At least one token per event: a delta is never empty. */
const tokens = (bytes: number) => (bytes <= BYTES_PER_TOKEN ? 1 : Math.ceil(bytes / BYTES_PER_TOKEN));

function parseData(buf: string, at: number, end: number): unknown {
  const data = buf.indexOf('data:', at);
  if (data === -1 || data > end) return null;
  try {
    return JSON.parse(buf.slice(data + 5, end));
  } catch {
    return null;
  }
}
