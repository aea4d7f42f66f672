import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cidrContains, parseCidr, parseIp } from './cidr.ts';

const inBlock = (block: string, ip: string) => {
  const c = parseCidr(block);
  const a = parseIp(ip);
  assert.ok(c && a, `${block} ${ip}`);
  return cidrContains(c, a);
};

describe('CIDR', () => {
  test('parses IPv4 and IPv6 blocks, bare addresses and host bits', () => {
    assert.deepEqual(parseCidr('203.0.113.0/24'), { family: 4, network: 0xcb007100n, prefix: 24 });
    assert.deepEqual(parseCidr('203.0.113.77'), { family: 4, network: 0xcb00714dn, prefix: 32 });
    assert.deepEqual(parseCidr('10.1.2.3/8'), { family: 4, network: 0x0a000000n, prefix: 8 });
    assert.deepEqual(parseCidr('2001:db8::/32'), { family: 6, network: 0x20010db8n << 96n, prefix: 32 });
    assert.deepEqual(parseCidr('::/0'), { family: 6, network: 0n, prefix: 0 });
    assert.equal(parseCidr('::1')?.prefix, 128);
  });

  test('refuses what is not a block', () => {
    for (const bad of ['', '10.0.0.0/33', '10.0.0/8', '256.0.0.0/8', '10.0.0.0/', '10.0.0.0/a', '10.0.0.0/08x', '::/129', 'fe80::1%eth0', 'x', '10.0.0.0/-1', '1.2.3.4 /8']) {
      assert.equal(parseCidr(bad), undefined, bad);
    }
  });

  test('membership', () => {
    assert.equal(inBlock('203.0.113.0/24', '203.0.113.255'), true);
    assert.equal(inBlock('203.0.113.0/24', '203.0.112.255'), false);
    assert.equal(inBlock('0.0.0.0/0', '255.255.255.255'), true);
    assert.equal(inBlock('2001:db8:1234:5678::/64', '2001:db8:1234:5678:ffff:ffff:ffff:ffff'), true);
    assert.equal(inBlock('2001:db8:1234:5678::/64', '2001:db8:1234:5679::'), false);
    assert.equal(inBlock('::ffff:0:0/96', '::ffff:1.2.3.4'), false, 'a mapped address is taken as IPv4');
    assert.equal(inBlock('1.2.3.0/24', '::ffff:1.2.3.4'), true);
    assert.equal(inBlock('1.2.3.0/24', '::ffff:102:304'), true);
    assert.equal(inBlock('::/0', '1.2.3.4'), false, 'families do not mix');
    assert.equal(inBlock('64:ff9b::/96', '64:ff9b::1.2.3.4'), true);
  });

  test('an IPv4 address lies in every block that its prefix covers', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, prefix) => {
        assert.equal(inBlock(`${ip}/${prefix}`, ip), true);
      }),
    );
  });

  test('an IPv6 address lies in every block that its prefix covers, and not in the flipped one', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 1, max: 128 }), (ip, prefix) => {
        const a = parseIp(ip);
        if (!a || a.family !== 6) return;
        assert.equal(inBlock(`${ip}/${prefix}`, ip), true);
        const flipped = a.value ^ (1n << BigInt(128 - prefix));
        assert.equal(cidrContains({ family: 6, network: flipped & ~((1n << BigInt(128 - prefix)) - 1n), prefix }, a), false);
      }),
    );
  });
});
