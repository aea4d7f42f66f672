import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryRegionCache } from './memory.ts';

test('MemoryRegionCache: get/set/delete, miss is undefined', async () => {
  const cache = new MemoryRegionCache();
  assert.equal(await cache.get('b'), undefined);
  await cache.set('b', 'eu-west-1');
  assert.equal(await cache.get('b'), 'eu-west-1');
  await cache.set('b', 'us-east-1');
  assert.equal(await cache.get('b'), 'us-east-1');
  await cache.delete('b');
  assert.equal(await cache.get('b'), undefined);
});

test('MemoryRegionCache: entries expire after their TTL (default or per set)', async () => {
  let now = 0;
  const cache = new MemoryRegionCache({ defaultTtlSeconds: 60, now: () => now });
  await cache.set('default-ttl', 'eu-west-1');
  await cache.set('short', 'eu-west-1', 5);
  now = 5_000;
  assert.equal(await cache.get('short'), undefined);
  assert.equal(await cache.get('default-ttl'), 'eu-west-1');
  now = 60_000;
  assert.equal(await cache.get('default-ttl'), undefined);
  assert.equal(cache.size, 0);
});

test('MemoryRegionCache: bounded size, least recently used goes first', async () => {
  const cache = new MemoryRegionCache({ maxEntries: 2 });
  await cache.set('a', 'r1');
  await cache.set('b', 'r2');
  await cache.get('a'); // a is now the most recently used
  await cache.set('c', 'r3');
  assert.equal(cache.size, 2);
  assert.equal(await cache.get('b'), undefined);
  assert.equal(await cache.get('a'), 'r1');
  assert.equal(await cache.get('c'), 'r3');
});
