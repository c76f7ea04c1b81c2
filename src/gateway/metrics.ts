/** A minimal Prometheus text exposition: counters by label and fixed-bucket histograms. */

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: number[]) {
    this.counts = new Array(buckets.length).fill(0);
  }
  observe(v: number) {
    this.sum += v;
    this.count += 1;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]! += 1;
  }
  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines.join('\n');
  }
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class GatewayMetrics {
  /** "status|scope" → count */
  private readonly requests = new Map<string, number>();
  private readonly rejections = new Map<string, number>();
  readonly upstreamLatency = new Histogram([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]);
  readonly overhead = new Histogram([0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1]);

  request(status: number, scope: string) {
    const k = `${status}|${scope}`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  rejection(reason: string) {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }

  render(gauges: { usageQueueDepth: number; usageDeadLetters: number; bodyBytesInFlight: number; liveInstances: number; keyCacheSize: number }): string {
    const out: string[] = [
      '# HELP keyward_gateway_requests_total Requests answered by the gateway, by HTTP status and key scope.',
      '# TYPE keyward_gateway_requests_total counter',
    ];
    for (const [k, v] of this.requests) {
      const [status, scope] = k.split('|') as [string, string];
      out.push(`keyward_gateway_requests_total{status="${status}",scope="${escape(scope)}"} ${v}`);
    }
    out.push(
      '# HELP keyward_gateway_rejections_total Requests refused by the gateway itself, by reason.',
      '# TYPE keyward_gateway_rejections_total counter',
    );
    for (const [reason, v] of this.rejections) out.push(`keyward_gateway_rejections_total{reason="${escape(reason)}"} ${v}`);
    out.push(
      this.upstreamLatency.render('keyward_gateway_upstream_latency_seconds', 'Time from forwarding a request to the end of the upstream response.'),
      this.overhead.render('keyward_gateway_overhead_seconds', 'Time the gateway adds before forwarding (auth, limits, reservation).'),
      '# HELP keyward_gateway_usage_queue_depth Usage events waiting to be written.',
      '# TYPE keyward_gateway_usage_queue_depth gauge',
      `keyward_gateway_usage_queue_depth ${gauges.usageQueueDepth}`,
      '# HELP keyward_gateway_usage_dead_letters_total Usage events the database refused on their own (quarantined; the rest was written).',
      '# TYPE keyward_gateway_usage_dead_letters_total counter',
      `keyward_gateway_usage_dead_letters_total ${gauges.usageDeadLetters}`,
      '# HELP keyward_gateway_body_bytes_in_flight Request bytes buffered in memory now (capped by GATEWAY_BODY_MEMORY_MB).',
      '# TYPE keyward_gateway_body_bytes_in_flight gauge',
      `keyward_gateway_body_bytes_in_flight ${gauges.bodyBytesInFlight}`,
      '# HELP keyward_gateway_live_instances Gateway processes sharing the database (rate limits are split among them).',
      '# TYPE keyward_gateway_live_instances gauge',
      `keyward_gateway_live_instances ${gauges.liveInstances}`,
      '# HELP keyward_gateway_key_cache_entries Cached key lookups (positive and negative).',
      '# TYPE keyward_gateway_key_cache_entries gauge',
      `keyward_gateway_key_cache_entries ${gauges.keyCacheSize}`,
    );
    return `${out.join('\n')}\n`;
  }
}
