import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LmdbCatalog, type MrapAsyncRequest, type MrapRecord } from './catalog.ts';

const record = (name: string, alias: string, account = '111122223333'): MrapRecord => ({
  account,
  name,
  alias,
  createdAt: 1_700_000_000_000,
  status: 'READY',
  publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true },
  regions: [{ bucket: 'b1', region: 'us-east-1', bucketAccountId: account, trafficDialPercentage: 100 }],
});

const request = (token: string, clientToken: string | undefined, name = 'n1'): MrapAsyncRequest => ({
  account: '111122223333',
  token,
  arn: `arn:aws:s3:us-west-2:111122223333:async-request/mrap/delete/${token}`,
  details: { operation: 'DeleteMultiRegionAccessPoint', name },
  createdAt: 1,
  status: 'NEW',
  requestId: 'R',
  ...(clientToken === undefined ? {} : { clientToken }),
});

describe('LmdbCatalog: MRAP records', () => {
  let dir: string;
  let catalog: LmdbCatalog;
  const open = () => new LmdbCatalog({ path: dir, regions: [], keys: [] });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meridian-catalog-'));
    catalog = open();
  });
  after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('insert, read by name and alias, list one account in name order', async () => {
    assert.equal(await catalog.insertMrap(record('zeta', 'zzz.mrap'), 100), 'created');
    assert.equal(await catalog.insertMrap(record('alpha', 'aaa.mrap'), 100), 'created');
    assert.equal(await catalog.insertMrap(record('alpha', 'other.mrap', '999999999999'), 100), 'created');
    assert.equal(catalog.mrap('111122223333', 'alpha')?.alias, 'aaa.mrap');
    assert.equal(catalog.mrapByAlias('zzz.mrap')?.name, 'zeta');
    assert.equal(catalog.mrapByAlias('nope.mrap'), undefined);
    assert.deepEqual(catalog.mraps('111122223333').map((m) => m.name), ['alpha', 'zeta']);
    assert.deepEqual(catalog.mraps('999999999999').map((m) => m.name), ['alpha']);
    assert.deepEqual(catalog.mraps('000000000000'), []);
  });

  test('names are unique per account, aliases are never reused, the per-account limit holds', async () => {
    assert.equal(await catalog.insertMrap(record('zeta', 'fresh.mrap'), 100), 'name-taken');
    assert.equal(await catalog.insertMrap(record('beta', 'zzz.mrap'), 100), 'alias-used');
    assert.equal(await catalog.insertMrap(record('beta', 'b.mrap'), 2), 'limit');
    assert.equal(await catalog.removeMrap('111122223333', 'zeta'), true);
    assert.equal(catalog.mrapByAlias('zzz.mrap'), undefined);
    assert.equal(catalog.mrapAliasUsed('zzz.mrap'), true);
    assert.equal(await catalog.insertMrap(record('other', 'zzz.mrap'), 100), 'alias-used');
  });

  test('updateMrap is a read-modify-write; unknown names are left alone', async () => {
    const updated = await catalog.updateMrap('111122223333', 'alpha', (r) => ({ ...r, status: 'DELETING' }));
    assert.equal(updated?.status, 'DELETING');
    assert.equal(catalog.mrap('111122223333', 'alpha')?.status, 'DELETING');
    assert.equal(await catalog.updateMrap('111122223333', 'ghost', (r) => r), undefined);
  });

  test('leases: one holder at a time until it releases or the lease expires', async () => {
    assert.equal(await catalog.acquireMrapLease('111122223333', 'alpha', 'A', 2000, 1000), 'A');
    assert.equal(await catalog.acquireMrapLease('111122223333', 'alpha', 'B', 2000, 1500), 'A');
    assert.equal(await catalog.acquireMrapLease('111122223333', 'alpha', 'A', 3000, 1500), 'A', 'the holder may renew');
    assert.equal(await catalog.acquireMrapLease('111122223333', 'alpha', 'B', 5000, 3001), 'B', 'an expired lease is taken over');
    await catalog.releaseMrapLease('111122223333', 'alpha', 'A');
    assert.equal(await catalog.acquireMrapLease('111122223333', 'alpha', 'C', 6000, 3002), 'B', 'only the holder releases');
    await catalog.releaseMrapLease('111122223333', 'alpha', 'B');
    assert.equal(await catalog.acquireMrapLease('111122223333', 'alpha', 'C', 6000, 3002), 'C');
  });

  test('async requests: ClientToken replays, mismatches, pending list, and everything survives reopening', async () => {
    assert.equal((await catalog.submitMrapRequest(request('t1', 'ct'))).kind, 'new');
    const replay = await catalog.submitMrapRequest(request('t2', 'ct'));
    assert.deepEqual([replay.kind, replay.request.token], ['replay', 't1']);
    const mismatch = await catalog.submitMrapRequest(request('t3', 'ct', 'other-name'));
    assert.deepEqual([mismatch.kind, mismatch.request.token], ['mismatch', 't1']);
    assert.equal((await catalog.submitMrapRequest(request('t4', undefined))).kind, 'new');
    assert.equal((await catalog.submitMrapRequest(request('t5', undefined))).kind, 'new', 'no ClientToken, no idempotency');
    await catalog.updateMrapRequest('111122223333', 't4', (r) => ({ ...r, status: 'SUCCEEDED' }));
    assert.deepEqual(catalog.pendingMrapRequests().map((r) => r.token), ['t1', 't5']);
    assert.equal(catalog.mrapRequest('111122223333', 't2'), undefined);

    await catalog.close();
    catalog = open();
    assert.equal(catalog.mrapRequest('111122223333', 't4')?.status, 'SUCCEEDED');
    assert.equal(catalog.mrap('111122223333', 'alpha')?.status, 'DELETING');
    assert.equal(catalog.mrapAliasUsed('zzz.mrap'), true);
    assert.equal((await catalog.submitMrapRequest(request('t6', 'ct'))).kind, 'replay');
  });
});
