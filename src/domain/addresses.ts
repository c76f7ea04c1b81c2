/**
 * Where outgoing webhooks may connect. Alerts are sent by keyward's own servers, so a webhook URL
 * pointing inside the network (loopback, private ranges, link-local cloud metadata, internal DNS
 * names) would let whoever manages a limit probe it. Private and special-purpose ranges are refused
 * unless a deployment allows a range explicitly (KEYWARD_WEBHOOK_ALLOW_PRIVATE).
 *
 * Pure: addresses are parsed here to bytes; resolving names happens in the sender, which asks
 * `addressAllowed` for every address a name resolves to and connects to the address it checked.
 */

export interface AddressRange {
  /** 4 bytes (IPv4) or 16 bytes (IPv6). */
  bytes: number[];
  prefix: number;
}

/** 4 or 16 bytes for a literal IPv4 / IPv6 address (brackets and a zone id allowed), else null. */
export function parseIp(text: string): number[] | null {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  return parseIpv4(t) ?? parseIpv6(t.replace(/%[0-9A-Za-z._~-]+$/, ''));
}

function parseIpv4(t: string): number[] | null {
  const parts = t.split('.');
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^(0|[1-9][0-9]{0,2})$/.test(p) ? Number(p) : NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}

function parseIpv6(t: string): number[] | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(t) || !t.includes(':')) return null;
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). Null when malformed. */
export function parseRange(text: string): AddressRange | null {
  const [addr, bits, extra] = text.trim().split('/');
  if (extra !== undefined || !addr) return null;
  const bytes = parseIp(addr);
  if (!bytes) return null;
  const max = bytes.length * 8;
  if (bits === undefined) return { bytes, prefix: max };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return null;
  return { bytes, prefix: Number(bits) };
}

export function inRange(ip: readonly number[], range: AddressRange): boolean {
  if (ip.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.prefix; bit++) {
    const mask = 0x80 >> bit % 8;
    if ((ip[bit >> 3]! & mask) !== (range.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

const ranges = (list: string[]) => list.map((r) => parseRange(r)!);

/** Not publicly routable, or special-purpose: never a webhook target unless allowed explicitly. */
const PRIVATE_V4 = ranges([
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, cloud metadata (169.254.169.254)
  '172.16.0.0/12',
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', // documentation
  '192.168.0.0/16',
  '198.18.0.0/15', // benchmarking
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, broadcast
]);
const PRIVATE_V6 = ranges([
  '::/128', // unspecified
  '::1/128', // loopback
  '100::/64', // discard
  '2001:db8::/32', // documentation
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
]);
/** IPv6 forms that carry an IPv4 address in their last 32 bits: judged by that address. */
const EMBEDS_V4 = ranges(['::ffff:0:0/96', '64:ff9b::/96', '::/96']);
const MAPPED_V4 = parseRange('::ffff:0:0/96')!;
const SIX_TO_FOUR = parseRange('2002::/16')!;

export function isPrivateAddress(ip: readonly number[]): boolean {
  if (ip.length === 4) return PRIVATE_V4.some((r) => inRange(ip, r));
  if (EMBEDS_V4.some((r) => inRange(ip, r))) return isPrivateAddress(ip.slice(12));
  if (inRange(ip, SIX_TO_FOUR)) return isPrivateAddress(ip.slice(2, 6)); // 6to4 carries an IPv4 address too
  return PRIVATE_V6.some((r) => inRange(ip, r));
}

/** May a webhook connect to this address? Public, or inside a range the deployment allowed. */
export function addressAllowed(ip: readonly number[], allow: readonly AddressRange[]): boolean {
  const v4 = ip.length === 16 && inRange(ip, MAPPED_V4) ? ip.slice(12) : null;
  if (allow.some((r) => inRange(ip, r) || (v4 !== null && inRange(v4, r)))) return true;
  return !isPrivateAddress(ip);
}

/** Names that only resolve inside a network (or to this host). */
const INTERNAL_SUFFIXES = ['localhost', 'local', 'internal', 'intranet', 'lan', 'home', 'corp', 'private', 'home.arpa', 'localdomain'];

/**
 * Why a webhook host is refused at validation time, or null when it may be tried (its resolved
 * addresses are checked again when connecting, which is what holds). Literal addresses are judged
 * here; names by shape: internal suffixes and single-label names, which only an internal resolver
 * answers. A deployment that allows private ranges may use internal names for them.
 */
export function webhookHostRefusal(hostname: string, allow: readonly AddressRange[]): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const ip = parseIp(host);
  if (ip) return addressAllowed(ip, allow) ? null : `${host} is a private or reserved address`;
  if (allow.length > 0) return null;
  if (!host.includes('.')) return `${host} is not a public host name`;
  const internal = INTERNAL_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
  return internal ? `${host} is an internal host name (.${internal})` : null;
}
