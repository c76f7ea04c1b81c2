import type { IncomingMessage } from 'node:http';

export type BodyResult = Buffer | 'too_large' | 'aborted' | 'timeout' | 'overloaded';

/**
 * Bytes of request bodies held in memory, all keys together and per key. A request reserves its
 * declared length up front (or each chunk as it arrives) and gives it back when its response ends.
 */
export class BodyMemory {
  private total = 0;
  private readonly perKey = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerKey: number,
  ) {}

  get bytes() {
    return this.total;
  }

  /** A hold for one request of `keyId`; release it exactly once when the request is done. */
  hold(keyId: string) {
    let held = 0;
    return {
      take: (n: number): boolean => {
        const mine = this.perKey.get(keyId) ?? 0;
        if (this.total + n > this.maxTotal || mine + n > this.maxPerKey) return false;
        this.total += n;
        this.perKey.set(keyId, mine + n);
        held += n;
        return true;
      },
      release: () => {
        if (held === 0) return;
        this.total -= held;
        const left = (this.perKey.get(keyId) ?? 0) - held;
        if (left > 0) this.perKey.set(keyId, left);
        else this.perKey.delete(keyId);
        held = 0;
      },
    };
  }
}

/**
 * Reads a request body up to `limit` bytes within `timeoutMs`, taking each byte from `memory`
 * first. Too large, too slow or no memory: stop reading and let node discard the rest.
 */
export function readBody(
  req: IncomingMessage, limit: number, timeoutMs: number, memory: { take(n: number): boolean },
): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.resolve('too_large');
  }
  // A declared length is reserved whole: the request is refused before any byte is buffered.
  const upFront = Number.isSafeInteger(declared) && declared > 0;
  if (upFront && !memory.take(declared)) {
    req.resume();
    return Promise.resolve('overloaded');
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    const done = (v: BodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (typeof v === 'string') chunks.length = 0;
      resolve(v);
    };
    req.on('data', (c: Buffer) => {
      if (settled) return;
      size += c.length;
      if (size > limit) return done('too_large');
      if (!upFront || size > declared) {
        if (!memory.take(c.length)) return done('overloaded');
      }
      chunks.push(c);
    });
    req.on('end', () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', () => done('aborted'));
    req.on('close', () => done(req.complete ? (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)) : 'aborted'));
  });
}
