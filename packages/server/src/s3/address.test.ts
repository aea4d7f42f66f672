import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { S3Error } from '../core/errors.ts';
import { hostWithoutPort, isValidBucketName, parseAddress } from './address.ts';

const DOMAINS = ['localhost', 's3.example.test'];

function invalidUri(err: unknown): boolean {
  return err instanceof S3Error && err.code === 'InvalidURI' && err.status === 400;
}

describe('hostWithoutPort', () => {
  const cases: [string, string][] = [
    ['localhost', 'localhost'],
    ['localhost:9001', 'localhost'],
    ['bkt.localhost:9001', 'bkt.localhost'],
    ['127.0.0.1:9001', '127.0.0.1'],
    ['[::1]', '[::1]'],
    ['[::1]:9001', '[::1]'],
    ['[2001:db8::7]:443', '[2001:db8::7]'],
    ['', ''],
  ];
  for (const [host, expected] of cases) {
    it(`${JSON.stringify(host)} → ${JSON.stringify(expected)}`, () => assert.equal(hostWithoutPort(host), expected));
  }
});

describe('parseAddress: path-style', () => {
  const cases: [string | undefined, string, { bucket?: string; key?: string }][] = [
    ['localhost:9001', '/', {}],
    ['localhost:9001', '', {}],
    [undefined, '/', {}],
    ['localhost:9001', '/bkt', { bucket: 'bkt' }],
    ['localhost:9001', '/bkt/', { bucket: 'bkt' }],
    ['localhost:9001', '/bkt/key', { bucket: 'bkt', key: 'key' }],
    ['localhost:9001', '/bkt/a/b/c.txt', { bucket: 'bkt', key: 'a/b/c.txt' }],
    ['localhost:9001', '/bkt//', { bucket: 'bkt', key: '/' }],
    ['localhost:9001', '/bkt//lead', { bucket: 'bkt', key: '/lead' }],
    ['localhost:9001', '/bkt/trail/', { bucket: 'bkt', key: 'trail/' }],
    ['127.0.0.1:9001', '/bkt/key', { bucket: 'bkt', key: 'key' }],
    ['[::1]:9001', '/bkt/key', { bucket: 'bkt', key: 'key' }],
    ['[::1]', '/bkt', { bucket: 'bkt' }],
    ['example.org', '/bkt/key', { bucket: 'bkt', key: 'key' }],
    // Keys are data: dot segments and encoded slashes stay literal.
    ['localhost', '/bkt/a/../b', { bucket: 'bkt', key: 'a/../b' }],
    ['localhost', '/bkt/../etc/passwd', { bucket: 'bkt', key: '../etc/passwd' }],
    ['localhost', '/bkt/./x', { bucket: 'bkt', key: './x' }],
    ['localhost', '/bkt/..', { bucket: 'bkt', key: '..' }],
    ['localhost', '/bkt/a%2Fb', { bucket: 'bkt', key: 'a/b' }],
    ['localhost', '/bkt/a%2F..%2Fb', { bucket: 'bkt', key: 'a/../b' }],
    // Percent-decoding happens once.
    ['localhost', '/bkt/a%20b', { bucket: 'bkt', key: 'a b' }],
    ['localhost', '/bkt/a+b', { bucket: 'bkt', key: 'a+b' }],
    ['localhost', '/bkt/100%25', { bucket: 'bkt', key: '100%' }],
    ['localhost', '/bkt/a%2520b', { bucket: 'bkt', key: 'a%20b' }],
    ['localhost', '/bkt/%E2%82%AC%F0%9F%98%80', { bucket: 'bkt', key: '€😀' }],
    ['localhost', '/bkt/%00', { bucket: 'bkt', key: '\u0000' }],
    ['localhost', '/b%6Bt/k', { bucket: 'bkt', key: 'k' }],
  ];
  for (const [host, path, expected] of cases) {
    it(`${host ?? '(no host)'} ${JSON.stringify(path)}`, () => {
      const got = parseAddress(host, path, DOMAINS);
      assert.deepEqual(
        { bucket: got.bucket, key: got.key, style: got.style },
        { bucket: expected.bucket, key: expected.key, style: 'path' },
      );
    });
  }
});

describe('parseAddress: virtual-hosted-style', () => {
  const cases: [string, string, { bucket: string; key?: string }][] = [
    ['bkt.localhost', '/', { bucket: 'bkt' }],
    ['bkt.localhost:9001', '/', { bucket: 'bkt' }],
    ['bkt.localhost:9001', '', { bucket: 'bkt' }],
    ['bkt.localhost:9001', '/key', { bucket: 'bkt', key: 'key' }],
    ['bkt.localhost:9001', '/a/b/', { bucket: 'bkt', key: 'a/b/' }],
    ['bkt.localhost:9001', '//x', { bucket: 'bkt', key: '/x' }],
    ['my.dotted.bucket.localhost:9001', '/k', { bucket: 'my.dotted.bucket', key: 'k' }],
    ['BKT.LocalHost:9001', '/Key', { bucket: 'bkt', key: 'Key' }],
    ['bkt.s3.example.test', '/k', { bucket: 'bkt', key: 'k' }],
    ['bkt.s3.example.test:443', '/a%20b/../c', { bucket: 'bkt', key: 'a b/../c' }],
    // The first path segment is part of the key, not a bucket.
    ['bkt.localhost', '/other/key', { bucket: 'bkt', key: 'other/key' }],
  ];
  for (const [host, path, expected] of cases) {
    it(`${host} ${JSON.stringify(path)}`, () => {
      const got = parseAddress(host, path, DOMAINS);
      assert.deepEqual(
        { bucket: got.bucket, key: got.key, style: got.style },
        { bucket: expected.bucket, key: expected.key, style: 'virtual' },
      );
    });
  }

  it('does not treat the bare domain, an empty label or a look-alike domain as a bucket', () => {
    assert.equal(parseAddress('localhost:9001', '/bkt', DOMAINS).style, 'path');
    assert.equal(parseAddress('.localhost', '/bkt', DOMAINS).style, 'path');
    assert.equal(parseAddress('bkt.notlocalhost', '/x', DOMAINS).style, 'path');
    assert.equal(parseAddress('bkt.localhost.evil.test', '/x', DOMAINS).style, 'path');
    assert.deepEqual(parseAddress('bkt.localhost', '/x', []), { bucket: 'x', style: 'path' });
  });

  it('the longest matching domain wins, whatever the order of the domains list', () => {
    for (const domains of [
      ['localhost', 's3.localhost'],
      ['s3.localhost', 'localhost'],
    ]) {
      assert.deepEqual(parseAddress('b.s3.localhost:9001', '/k', domains), { bucket: 'b', key: 'k', style: 'virtual' });
      assert.equal(parseAddress('b.s3.localhost:9001', '/', domains).bucket, 'b');
      assert.equal(parseAddress('my.b.s3.localhost', '/k', domains).bucket, 'my.b');
      assert.deepEqual(parseAddress('b.localhost:9001', '/k', domains), { bucket: 'b', key: 'k', style: 'virtual' });
    }
  });

  it('keeps IPv6 literal hosts path-style', () => {
    assert.deepEqual(parseAddress('[::1]:9001', '/bkt/k', ['localhost']), { bucket: 'bkt', key: 'k', style: 'path' });
  });
});

describe('parseAddress: invalid percent-encoding', () => {
  const bad = ['/bkt/%', '/bkt/%zz', '/bkt/a%2', '/bkt/%E2%82', '/bkt/%C0%AF', '/bkt/%ED%A0%80', '/b%ZZ/k', '/b%'];
  for (const path of bad) {
    it(`${path} → InvalidURI`, () => {
      assert.throws(() => parseAddress('localhost', path, DOMAINS), invalidUri);
    });
  }
  it('a virtual-hosted key with bad encoding → InvalidURI', () => {
    assert.throws(() => parseAddress('bkt.localhost', '/%E0%A4%A', DOMAINS), invalidUri);
  });

  it('property: every key survives encodeURIComponent and parseAddress unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (key) => {
        const path = `/bkt/${encodeURIComponent(key)}`;
        const vpath = `/${encodeURIComponent(key)}`;
        return (
          parseAddress('localhost', path, DOMAINS).key === key &&
          parseAddress('bkt.localhost', vpath, DOMAINS).key === key
        );
      }),
    );
  });
});

describe('isValidBucketName', () => {
  const valid = [
    'abc',
    'my-bucket',
    'my.bucket.name',
    'a1b2c3',
    '123',
    'a'.repeat(63),
    'bucket-1.example',
    'xn-bucket',
    's3alias-bucket',
    '1.2.3',
    '1.2.3.4.5',
    'sthree',
  ];
  const invalid = [
    'ab',
    'a'.repeat(64),
    '',
    'My-Bucket',
    'my_bucket',
    'my bucket',
    '-bucket',
    'bucket-',
    '.bucket',
    'bucket.',
    'my..bucket',
    '192.168.5.4',
    '10.0.0.1',
    'xn--bucket',
    'sthree-bucket',
    'sthree-configurator',
    'amzn-s3-demo-bucket',
    'bucket-s3alias',
    'bucket--ol-s3',
    'bucket.mrap',
    'bucket--x-s3',
    'bucket--table-s3',
    'bücket',
    'bucket/',
  ];
  for (const name of valid) it(`accepts ${JSON.stringify(name)}`, () => assert.equal(isValidBucketName(name), true));
  for (const name of invalid) it(`rejects ${JSON.stringify(name)}`, () => assert.equal(isValidBucketName(name), false));
});
