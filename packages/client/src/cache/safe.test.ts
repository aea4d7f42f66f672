import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SafeRegionCache } from './safe.ts';
import type { BucketRegionCache } from './types.ts';

test('SafeRegionCache: a throwing cache reads as a miss, warns once per outage, recovers', async () => {
  let down = true;
  const store = new Map<string, string>();
  const flaky: BucketRegionCache = {
    get: async (b) => {
      if (down) throw new Error('ECONNREFUSED');
      return store.get(b);
    },
    set: async (b, r) => {
      if (down) throw new Error('ECONNREFUSED');
      store.set(b, r);
    },
    delete: async (b) => {
      if (down) throw new Error('ECONNREFUSED');
      store.delete(b);
    },
  };
  const warnings: string[] = [];
  const safe = new SafeRegionCache(flaky, { warn: (m) => warnings.push(m) });
  assert.equal(await safe.get('b'), undefined);
  await safe.set('b', 'eu-west-1');
  await safe.delete('b');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /ECONNREFUSED/);
  down = false;
  await safe.set('b', 'eu-west-1');
  assert.equal(await safe.get('b'), 'eu-west-1');
  down = true;
  await safe.get('b');
  assert.equal(warnings.length, 2, 'a new outage warns again');
});

test('SafeRegionCache: a hanging cache times out as a miss; TTL is passed through', async () => {
  const ttls: (number | undefined)[] = [];
  const hanging: BucketRegionCache = {
    get: () => new Promise(() => {}),
    set: async (_b, _r, ttl) => {
      ttls.push(ttl);
    },
    delete: async () => {},
  };
  const warnings: string[] = [];
  const safe = new SafeRegionCache(hanging, { ttlSeconds: 42, timeoutMs: 20, warn: (m) => warnings.push(m) });
  assert.equal(await safe.get('b'), undefined);
  assert.match(warnings[0], /timed out/);
  await safe.set('b', 'eu-west-1');
  assert.deepEqual(ttls, [42]);
});
