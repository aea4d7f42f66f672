import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LmdbCatalog } from '../catalog/catalog.ts';
import { createLogger } from '../core/log.ts';
import { GlobalServer, type DataPlaneInfo } from './server.ts';

describe('GlobalServer: what is not S3 Control goes to the data plane', () => {
  let dir: string;
  let catalog: LmdbCatalog;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meridian-global-'));
    catalog = new LmdbCatalog({ path: dir, regions: [], keys: [] });
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });
  const log = createLogger({ level: 'silent', pretty: false });

  test('the hook gets every other request with its ids and raw path and query', async () => {
    const seen: DataPlaneInfo[] = [];
    const server = new GlobalServer({
      catalog,
      log,
      dataPlane: (req, res, info) => {
        seen.push(info);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`routed ${req.method ?? ''}`);
        return Promise.resolve();
      },
    });
    const endpoint = await server.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${endpoint}/abc.mrap/some%20key?versionId=v1`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'routed GET');
      assert.deepEqual(seen.map((s) => [s.rawPath, s.rawQuery]), [['/abc.mrap/some%20key', 'versionId=v1']]);
      assert.equal(res.headers.get('x-amz-request-id'), seen[0].requestId);
      assert.equal(res.headers.get('x-amz-id-2'), seen[0].hostId);
      const metrics = await fetch(`${endpoint}/_meridian/mrap/metrics`);
      assert.equal(metrics.status, 200, 'operator paths other than health and ready belong to the data plane');
      const health = await fetch(`${endpoint}/_meridian/health`);
      assert.deepEqual(await health.json(), { status: 'ok', endpoint: 'global' });
      assert.equal(seen.length, 2);
    } finally {
      await server.close();
    }
  });

  test('without a data plane, object requests are 501 NotImplemented; a throwing hook becomes an S3 error', async () => {
    const bare = new GlobalServer({ catalog, log });
    const endpoint = await bare.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${endpoint}/abc.mrap/key`);
      assert.equal(res.status, 501);
      const text = await res.text();
      assert.match(text, /<Code>NotImplemented<\/Code>/);
      assert.match(text, new RegExp(`<RequestId>${res.headers.get('x-amz-request-id') ?? 'missing'}</RequestId>`));
    } finally {
      await bare.close();
    }
    const failing = new GlobalServer({ catalog, log, dataPlane: () => Promise.reject(new Error('boom')) });
    const ep2 = await failing.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${ep2}/abc.mrap/key`);
      assert.equal(res.status, 500);
      const text = await res.text();
      assert.match(text, /<Code>InternalError<\/Code>/);
      assert.doesNotMatch(text, /boom/);
    } finally {
      await failing.close();
    }
  });
});
