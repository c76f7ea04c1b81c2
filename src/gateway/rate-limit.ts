/**
 * Token buckets in memory, refilled continuously (per minute limits, like Anthropic's). With several
 * gateway processes each one enforces limit / live processes (heartbeat table), so the cluster as a
 * whole stays within the limit without a shared store on the hot path.
 */
export class Bucket {
  level: number;
  updated: number;
  constructor(
    public limit: number,
    public capacity: number,
    now: number,
  ) {
    this.level = capacity;
    this.updated = now;
  }

  refill(now: number) {
    const elapsed = now - this.updated;
    if (elapsed > 0) {
      this.level = Math.min(this.capacity, this.level + (elapsed * this.capacity) / 60_000);
      this.updated = now;
    }
  }

  /** Seconds until `amount` is available (0 = now). */
  waitFor(amount: number): number {
    const missing = amount - this.level;
    return missing <= 0 ? 0 : Math.ceil((missing * 60) / this.capacity);
  }

  /** RFC 3339 time at which the bucket is full again. */
  resetAt(now: number): string {
    const ms = ((this.capacity - this.level) * 60_000) / this.capacity;
    return new Date(now + Math.max(0, Math.ceil(ms / 1000) * 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

export type BucketKind = 'requests' | 'input-tokens' | 'output-tokens';

export interface Refusal {
  kind: BucketKind;
  bucket: Bucket;
  retryAfter: number;
  /** Whose limit: "key" / "project" / "org". */
  owner: string;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private share = 1;

  /** Live gateway processes changed: every bucket's capacity follows. */
  setProcesses(n: number) {
    this.share = Math.max(1, n);
    for (const b of this.buckets.values()) {
      b.capacity = Math.max(1, b.limit / this.share);
      b.level = Math.min(b.level, b.capacity);
    }
  }

  /** The bucket for `id` with per-minute `limit` (null = unlimited), created full. */
  bucket(id: string, limit: number | null, now: number): Bucket | null {
    if (limit === null) return null;
    let b = this.buckets.get(id);
    if (!b) {
      b = new Bucket(limit, Math.max(1, limit / this.share), now);
      this.buckets.set(id, b);
    } else {
      b.refill(now);
      if (b.limit !== limit) {
        b.limit = limit;
        b.capacity = Math.max(1, limit / this.share);
        b.level = Math.min(b.level, b.capacity);
      }
    }
    return b;
  }

  get size() {
    return this.buckets.size;
  }
}
