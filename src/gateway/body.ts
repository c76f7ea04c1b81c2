import type { IncomingMessage } from 'node:http';

/** Reads a request body up to `limit` bytes. Too large: stop reading and let node discard the rest. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.resolve('too_large');
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (v: Buffer | 'too_large' | 'aborted') => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    req.on('data', (c: Buffer) => {
      if (settled) return;
      size += c.length;
      if (size > limit) {
        chunks.length = 0;
        done('too_large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', () => done('aborted'));
    req.on('close', () => done(req.complete ? (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)) : 'aborted'));
  });
}
