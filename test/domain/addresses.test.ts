import { describe, expect, it } from 'vitest';
import { addressAllowed, inRange, isPrivateAddress, parseIp, parseRange, webhookHostRefusal } from '../../src/domain/addresses.js';

const ip = (text: string) => {
  const bytes = parseIp(text);
  if (!bytes) throw new Error(`not an address: ${text}`);
  return bytes;
};
const range = (text: string) => parseRange(text)!;

describe('parseIp', () => {
  it('parses IPv4 and IPv6 to bytes, with brackets, zone ids and embedded IPv4', () => {
    expect(parseIp('192.168.1.20')).toEqual([192, 168, 1, 20]);
    expect(parseIp('0.0.0.0')).toEqual([0, 0, 0, 0]);
    expect(parseIp('::1')).toEqual([...Array(15).fill(0), 1]);
    expect(parseIp('[::1]')).toEqual([...Array(15).fill(0), 1]);
    expect(parseIp('::')).toEqual(Array(16).fill(0));
    expect(parseIp('fe80::1%eth0')).toEqual([0xfe, 0x80, ...Array(13).fill(0), 1]);
    expect(parseIp('::ffff:127.0.0.1')).toEqual([...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 1]);
    expect(parseIp('::ffff:7f00:1')).toEqual([...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 1]);
    expect(parseIp('2001:db8:0:0:0:0:0:1')).toEqual(parseIp('2001:db8::1'));
    expect(parseIp('1:2:3:4:5:6:7:8')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'example.com', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1:2:3:4:5:6:7::8:9', '::ffff:1.2.3.999', 'localhost']) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });
});

describe('parseRange / inRange', () => {
  it('parses CIDR ranges and bare addresses', () => {
    expect(parseRange('10.0.0.0/8')).toEqual({ bytes: [10, 0, 0, 0], prefix: 8 });
    expect(parseRange('127.0.0.1')).toEqual({ bytes: [127, 0, 0, 1], prefix: 32 });
    expect(parseRange('fd00::/8')).toMatchObject({ prefix: 8 });
    expect(parseRange('::1')).toMatchObject({ prefix: 128 });
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/x', '10.0.0.0/8/8', 'example.com/8', '/8', '']) expect(parseRange(bad), bad).toBeNull();
  });

  it('matches exactly the prefix bits, never across families', () => {
    expect(inRange(ip('172.16.0.1'), range('172.16.0.0/12'))).toBe(true);
    expect(inRange(ip('172.31.255.255'), range('172.16.0.0/12'))).toBe(true);
    expect(inRange(ip('172.32.0.0'), range('172.16.0.0/12'))).toBe(false);
    expect(inRange(ip('172.15.255.255'), range('172.16.0.0/12'))).toBe(false);
    expect(inRange(ip('8.8.8.8'), range('0.0.0.0/0'))).toBe(true);
    expect(inRange(ip('::1'), range('0.0.0.0/0'))).toBe(false);
    expect(inRange(ip('10.0.0.1'), range('::/0'))).toBe(false);
  });
});

describe('isPrivateAddress', () => {
  it.each([
    '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.255', '127.0.0.1', '127.8.9.10',
    '169.254.169.254', '169.254.0.1', '172.16.0.1', '172.31.255.254', '192.0.0.8', '192.0.2.1', '192.168.0.1', '192.168.255.255',
    '198.18.0.1', '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255',
    '::', '::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'febf::1', 'fec0::1', 'ff02::1', '100::1', '2001:db8::1',
    '::ffff:127.0.0.1', '::ffff:10.1.2.3', '::ffff:169.254.169.254', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe', '::127.0.0.1', '2002:7f00:1::1', '2002:c0a8:101::1',
  ])('%s is private or reserved', (address) => {
    expect(isPrivateAddress(ip(address))).toBe(true);
  });

  it.each([
    '1.1.1.1', '8.8.8.8', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '126.255.255.255', '128.0.0.1',
    '169.253.255.255', '169.255.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255', '192.169.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255',
    '2606:4700:4700::1111', '2001:4860:4860::8888', 'fbff::1', 'fe7f::1', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1',
  ])('%s is public', (address) => {
    expect(isPrivateAddress(ip(address))).toBe(false);
  });
});

describe('addressAllowed', () => {
  it('public addresses always; private ones only inside an allowed range (IPv4-mapped included)', () => {
    expect(addressAllowed(ip('8.8.8.8'), [])).toBe(true);
    expect(addressAllowed(ip('127.0.0.1'), [])).toBe(false);
    const allow = [range('127.0.0.1/32'), range('10.0.0.0/8')];
    expect(addressAllowed(ip('127.0.0.1'), allow)).toBe(true);
    expect(addressAllowed(ip('::ffff:127.0.0.1'), allow)).toBe(true);
    expect(addressAllowed(ip('127.0.0.2'), allow)).toBe(false);
    expect(addressAllowed(ip('10.9.8.7'), allow)).toBe(true);
    expect(addressAllowed(ip('192.168.1.1'), allow)).toBe(false);
    expect(addressAllowed(ip('169.254.169.254'), allow)).toBe(false);
    expect(addressAllowed(ip('::1'), allow)).toBe(false);
    expect(addressAllowed(ip('::1'), [range('::1/128')])).toBe(true);
  });
});

describe('webhookHostRefusal', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1 is a private or reserved address'],
    ['10.1.2.3', '10.1.2.3 is a private or reserved address'],
    ['169.254.169.254', '169.254.169.254 is a private or reserved address'],
    ['[::1]', '[::1] is a private or reserved address'],
    ['[::ffff:7f00:1]', '[::ffff:7f00:1] is a private or reserved address'],
    ['localhost', 'localhost is not a public host name'],
    ['LOCALHOST.', 'localhost is not a public host name'],
    ['metadata', 'metadata is not a public host name'],
    ['api.localhost', 'api.localhost is an internal host name (.localhost)'],
    ['printer.local', 'printer.local is an internal host name (.local)'],
    ['metadata.google.internal', 'metadata.google.internal is an internal host name (.internal)'],
    ['hooks.corp', 'hooks.corp is an internal host name (.corp)'],
    ['nas.home.arpa', 'nas.home.arpa is an internal host name (.home.arpa)'],
  ])('refuses %s', (host, why) => {
    expect(webhookHostRefusal(host, [])).toBe(why);
  });

  it('accepts public names and addresses; an allowed range opens its addresses and internal names', () => {
    expect(webhookHostRefusal('hooks.example.com', [])).toBeNull();
    expect(webhookHostRefusal('localhost.example.com', [])).toBeNull();
    expect(webhookHostRefusal('8.8.8.8', [])).toBeNull();
    expect(webhookHostRefusal('[2606:4700:4700::1111]', [])).toBeNull();
    const allow = [range('10.0.0.0/8')];
    expect(webhookHostRefusal('10.1.2.3', allow)).toBeNull();
    expect(webhookHostRefusal('hooks.corp', allow)).toBeNull(); // its addresses are still checked when connecting
    expect(webhookHostRefusal('127.0.0.1', allow)).toBe('127.0.0.1 is a private or reserved address');
  });
});
