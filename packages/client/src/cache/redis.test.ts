/**
 * RedisRegionCache against a real Redis (REDIS_URL, default redis://127.0.0.1:6379; `.ci/run`
 * starts one). These tests never skip: without Redis they fail, saying so.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { regionCacheContract, type ContractCache } from './contract.ts';
import { RedisRegionCache, RegionCacheUnavailableError } from './redis.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runId = `${process.pid}-${randomBytes(4).toString('hex')}`;
const freshPrefix = () => `meridian-test:${runId}:${randomBytes(4).toString('hex')}:`;

let admin: Redis;
before(async () => {
  admin = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    assert.equal(await admin.ping(), 'PONG');
  } catch (err) {
    throw new Error(
      `Redis must run at ${REDIS_URL} for these tests (.ci/run starts it; locally: ` +
        `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no)`,
      { cause: err },
    );
  }
});
after(async () => {
  if (admin.status !== 'ready') return admin.disconnect();
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `meridian-test:${runId}:*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await admin.quit();
});

regionCacheContract(
  'RedisRegionCache',
  (): ContractCache => new RedisRegionCache({ redis: REDIS_URL, prefix: freshPrefix() }),
);

/** A TCP port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Times one call that must reject as unavailable; resolves its duration in ms. */
async function rejectsUnavailable(call: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await assert.rejects(call(), (err: unknown) => {
    assert.ok(err instanceof RegionCacheUnavailableError, String(err));
    return true;
  });
  return performance.now() - t0;
}

describe('RedisRegionCache', { concurrency: true }, () => {
  test('keys are namespaced by the prefix: two prefixes never see each other', async () => {
    const a = new RedisRegionCache({ redis: REDIS_URL, prefix: freshPrefix() });
    const b = new RedisRegionCache({ redis: REDIS_URL, prefix: freshPrefix() });
    try {
      await a.set('photos', 'eu-west-1');
      assert.equal(await b.get('photos'), undefined);
      await b.set('photos', 'ap-southeast-1');
      assert.equal(await a.get('photos'), 'eu-west-1');
      assert.equal(await admin.get(`${a.prefix}photos`), 'eu-west-1', 'the key is <prefix><bucket>');
      assert.equal(await admin.get(`${b.prefix}photos`), 'ap-southeast-1');
      assert.equal(await admin.exists('photos'), 0, 'nothing is written outside the prefix');
      await a.delete('photos');
      assert.equal(await b.get('photos'), 'ap-southeast-1', 'a delete stays in its namespace');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('the default prefix is meridian:bucket-region:', () => {
    const cache = new RedisRegionCache({ redis: REDIS_URL });
    assert.equal(cache.key('photos'), 'meridian:bucket-region:photos');
    return cache.close();
  });

  test('the TTL is kept by Redis itself, visible with the TTL command', async () => {
    const cache = new RedisRegionCache({ redis: REDIS_URL, prefix: freshPrefix(), defaultTtlSeconds: 900 });
    try {
      await cache.set('given', 'eu-west-1', 120);
      await cache.set('defaulted', 'eu-west-1');
      const given = await admin.ttl(cache.key('given'));
      assert.ok(given > 115 && given <= 120, `TTL ${given}`);
      const defaulted = await admin.ttl(cache.key('defaulted'));
      assert.ok(defaulted > 895 && defaulted <= 900, `TTL ${defaulted}`);
      await cache.set('given', 'us-east-1', 30);
      const renewed = await admin.ttl(cache.key('given'));
      assert.ok(renewed > 25 && renewed <= 30, `an overwrite sets a new TTL, not ${renewed}`);
    } finally {
      await cache.close();
    }
  });

  test('an existing ioredis client is used as is and left open by close()', async () => {
    const client = new Redis(REDIS_URL);
    const cache = new RedisRegionCache({ client, prefix: freshPrefix() });
    try {
      await cache.set('shared-client', 'eu-west-1');
      assert.equal(await client.get(cache.key('shared-client')), 'eu-west-1');
      await cache.close();
      assert.equal(await client.ping(), 'PONG');
    } finally {
      await client.quit();
    }
  });

  test('with Redis down, every call rejects as unavailable within the timeout, then at once, and nothing crashes', async () => {
    const port = await closedPort();
    const cache = new RedisRegionCache({ redis: { host: '127.0.0.1', port }, timeoutMs: 500 });
    try {
      const first = await rejectsUnavailable(() => cache.get('photos'));
      assert.ok(first < 1000, `the first call gave up after ${first} ms`);
      for (const call of [
        () => cache.get('photos'),
        () => cache.set('photos', 'eu-west-1'),
        () => cache.delete('photos'),
      ]) {
        const ms = await rejectsUnavailable(call);
        assert.ok(ms < 100, `a call while Redis is known down took ${ms} ms`);
      }
      // Many requests at once must not pile up behind the dead connection either.
      const t0 = performance.now();
      const settled = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => cache.get(`b-${i}`)));
      assert.ok(settled.every((s) => s.status === 'rejected'));
      assert.ok(performance.now() - t0 < 500, `200 calls took ${performance.now() - t0} ms`);
      await sleep(700); // background reconnects fail meanwhile: no uncaught error may surface
    } finally {
      await cache.close();
    }
  });

  test('a server that accepts but never answers cannot hang a call past the timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    const cache = new RedisRegionCache({ redis: { host: '127.0.0.1', port }, timeoutMs: 300 });
    try {
      const ms = await rejectsUnavailable(() => cache.set('photos', 'eu-west-1'));
      assert.ok(ms < 800, `gave up after ${ms} ms`);
    } finally {
      await cache.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('after an outage the cache works again once Redis is back', { timeout: 20_000 }, async () => {
    // A TCP relay to the real Redis that can be switched off and on, on a fixed port.
    const upstream = new URL(REDIS_URL);
    const open = new Set<Socket>();
    const relay = createServer((client) => {
      const server = connect(Number(upstream.port || 6379), upstream.hostname);
      open.add(client).add(server);
      client.pipe(server).pipe(client);
      const end = () => {
        client.destroy();
        server.destroy();
      };
      client.on('error', end).on('close', end);
      server.on('error', end).on('close', end);
    });
    relay.listen(0, '127.0.0.1');
    await once(relay, 'listening');
    const { port } = relay.address() as AddressInfo;
    const cache = new RedisRegionCache({ redis: { host: '127.0.0.1', port }, prefix: freshPrefix(), timeoutMs: 500 });
    try {
      await cache.set('photos', 'eu-west-1');
      relay.close();
      for (const s of open) s.destroy();
      await once(relay, 'close');
      await rejectsUnavailable(() => cache.get('photos'));

      relay.listen(port, '127.0.0.1');
      await once(relay, 'listening');
      const deadline = Date.now() + 15_000;
      let got: string | undefined;
      while (Date.now() < deadline) {
        got = await cache.get('photos').catch(() => undefined);
        if (got) break;
        await sleep(100);
      }
      assert.equal(got, 'eu-west-1');
    } finally {
      await cache.close();
      relay.close();
      for (const s of open) s.destroy();
    }
  });
});
