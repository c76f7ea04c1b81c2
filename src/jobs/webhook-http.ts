/**
 * One webhook POST, connected only to addresses `addressAllowed` accepts. The name is resolved
 * inside the request's own `lookup`, every answer is checked, and the socket connects to the
 * address that was checked: a name that re-resolves to a private address between validation and
 * delivery (DNS rebinding) cannot reach it. Redirects are not followed and the receiver's answer
 * is never read beyond its status.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { addressAllowed, parseIp, type AddressRange } from '../domain/addresses.js';

/** The target is (or resolves to) a private or reserved address the deployment did not allow. */
export class WebhookBlocked extends Error {
  constructor(readonly host: string) {
    super(`webhook host ${host} is a private or reserved address`);
    this.name = 'WebhookBlocked';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that answers only allowed addresses, and fails when any answer is not allowed. */
export function guardedLookup(allow: readonly AddressRange[]) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, []);
      const refused = addresses.find((a) => {
        const ip = parseIp(a.address);
        return !ip || !addressAllowed(ip, allow);
      });
      if (refused || addresses.length === 0) return callback(new WebhookBlocked(hostname), []);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** POSTs `body` and resolves with the HTTP status (the answer's body is discarded). */
export function postWebhook(url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number; allow: readonly AddressRange[] }): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const literal = parseIp(target.hostname);
    // A literal address is never looked up, so it is judged here.
    if (literal && !addressAllowed(literal, init.allow)) return reject(new WebhookBlocked(target.hostname));
    const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : null;
    if (!client) return reject(new Error(`unsupported webhook protocol ${target.protocol}`));
    const req = client.request(target, {
      method: 'POST',
      headers: { ...init.headers, 'content-length': Buffer.byteLength(init.body) },
      lookup: guardedLookup(init.allow) as never,
      agent: false, // no pooled socket from an earlier resolution
      timeout: init.timeoutMs,
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('webhook timed out')));
    req.on('error', reject);
    req.end(init.body);
  });
}
