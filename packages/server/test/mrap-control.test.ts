/**
 * The S3 Control API for Multi-Region Access Points, end to end with the real
 * `@aws-sdk/client-s3-control` against the global endpoint.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import {
  CreateMultiRegionAccessPointCommand,
  DeleteMultiRegionAccessPointCommand,
  DeletePublicAccessBlockCommand,
  DescribeMultiRegionAccessPointOperationCommand,
  GetMultiRegionAccessPointCommand,
  GetMultiRegionAccessPointPolicyCommand,
  GetMultiRegionAccessPointPolicyStatusCommand,
  GetMultiRegionAccessPointRoutesCommand,
  ListMultiRegionAccessPointsCommand,
  PutMultiRegionAccessPointPolicyCommand,
  PutPublicAccessBlockCommand,
  S3ControlClient,
  S3ControlServiceException,
  SubmitMultiRegionAccessPointRoutesCommand,
  paginateListMultiRegionAccessPoints,
  type AsyncOperation,
  type S3ControlClientConfig,
} from '@aws-sdk/client-s3-control';
import { eventually } from './helpers/eventually.ts';
import { assertS3Error, rawRequest } from './helpers/raw-request.ts';
import { CREDENTIALS, localhostResolvingHandler, startTestWorld, type TestWorld } from './helpers/world.ts';

const AccountId = CREDENTIALS.accountId;
const ALIAS = /^[a-z][a-z0-9]*\.mrap$/;
const TOKEN_ARN = /^arn:aws:s3:us-west-2:111122223333:async-request\/mrap\/create\/[0-9a-f]{32}$/;

/**
 * A stock S3 Control client for the global endpoint. The S3 Control endpoint rules put the
 * account in front of the host (`{AccountId}.{endpoint host}`) even for a custom endpoint, and
 * `disableHostPrefix` does not change that (it only affects the model's hostPrefix trait), so
 * `111122223333.127.0.0.1` would not even be a valid URL. The tests therefore address the
 * endpoint as `localhost` with a handler that resolves `*.localhost` to 127.0.0.1; the server
 * ignores the `{AccountId}.` prefix and reads the account from `x-amz-account-id`.
 */
function controlClient(w: TestWorld, config: Partial<S3ControlClientConfig> = {}): S3ControlClient {
  return new S3ControlClient({
    region: 'us-west-2',
    endpoint: w.globalEndpoint.replace('127.0.0.1', 'localhost'),
    credentials: CREDENTIALS,
    requestHandler: localhostResolvingHandler(),
    maxAttempts: 1,
    ...config,
  });
}

async function controlRejects(p: Promise<unknown>, code: string, status: number): Promise<S3ControlServiceException> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof S3ControlServiceException, `expected an S3 Control error, got ${String(err)}`);
    assert.equal(err.name, code, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, status, `${err.name}: ${err.message}`);
    assert.ok(err.$metadata.requestId, 'errors carry a request id');
    return err;
  }
  assert.fail(`expected ${code}`);
}

async function finished(c: S3ControlClient, RequestTokenARN: string | undefined): Promise<AsyncOperation> {
  return eventually(async () => {
    const out = await c.send(new DescribeMultiRegionAccessPointOperationCommand({ AccountId, RequestTokenARN }));
    const op = out.AsyncOperation!;
    assert.ok(op.RequestStatus === 'SUCCEEDED' || op.RequestStatus === 'FAILED', `still ${op.RequestStatus}`);
    return op;
  });
}

async function create(c: S3ControlClient, Name: string, buckets: string[]): Promise<AsyncOperation> {
  const out = await c.send(
    new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name, Regions: buckets.map((Bucket) => ({ Bucket })) } }),
  );
  return finished(c, out.RequestTokenARN);
}

async function createBuckets(w: TestWorld, buckets: Record<string, string>): Promise<void> {
  for (const [bucket, region] of Object.entries(buckets)) {
    await w.client(region).send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
  }
}

const POLICY_PRIVATE = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${AccountId}:root` }, Action: 's3:GetObject', Resource: `arn:aws:s3::${AccountId}:accesspoint/*` }],
});
const POLICY_PUBLIC = JSON.stringify({
  Version: '2012-10-17',
  Statement: { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3::${AccountId}:accesspoint/*` },
});

describe('S3 Control: Multi-Region Access Points', () => {
  let w: TestWorld;
  let c: S3ControlClient;
  before(async () => {
    w = await startTestWorld({ mrapControl: { asyncDelayMs: 500, routeUpdateMs: 150 } });
    c = controlClient(w);
    await createBuckets(w, {
      'data-use1': 'us-east-1',
      'data-euw1': 'eu-west-1',
      'data-apse1': 'ap-southeast-1',
      'other-use1': 'us-east-1',
    });
  });
  after(async () => {
    c.destroy();
    await w.close();
  });

  test('create → NEW/IN_PROGRESS → SUCCEEDED, then Get reports the MRAP READY with its buckets resolved', async () => {
    const out = await c.send(
      new CreateMultiRegionAccessPointCommand({
        AccountId,
        ClientToken: 'create-orders-1',
        Details: { Name: 'orders', Regions: [{ Bucket: 'data-use1' }, { Bucket: 'data-euw1', BucketAccountId: AccountId }] },
      }),
    );
    assert.match(out.RequestTokenARN!, TOKEN_ARN);
    const first = await c.send(new DescribeMultiRegionAccessPointOperationCommand({ AccountId, RequestTokenARN: out.RequestTokenARN }));
    assert.ok(['NEW', 'IN_PROGRESS'].includes(first.AsyncOperation!.RequestStatus!), 'the work is done in the background');
    assert.equal(first.AsyncOperation!.Operation, 'CreateMultiRegionAccessPoint');
    assert.deepEqual(first.AsyncOperation!.RequestParameters?.CreateMultiRegionAccessPointRequest?.Regions, [
      { Bucket: 'data-use1' },
      { Bucket: 'data-euw1', BucketAccountId: AccountId },
    ]);

    const creating = await eventually(async () => {
      const got = await c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'orders' }));
      assert.equal(got.AccessPoint?.Status, 'CREATING');
      return got.AccessPoint!;
    });
    assert.match(creating.Alias!, ALIAS);

    const done = await finished(c, out.RequestTokenARN);
    assert.equal(done.RequestStatus, 'SUCCEEDED');
    assert.deepEqual(done.ResponseDetails?.MultiRegionAccessPointDetails?.Regions, [
      { Name: 'us-east-1', RequestStatus: 'SUCCEEDED' },
      { Name: 'eu-west-1', RequestStatus: 'SUCCEEDED' },
    ]);
    assert.ok(done.CreationTime instanceof Date);

    const got = await c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'orders' }));
    const ap = got.AccessPoint!;
    assert.equal(ap.Name, 'orders');
    assert.equal(ap.Status, 'READY');
    assert.equal(ap.Alias, creating.Alias);
    assert.ok(ap.CreatedAt instanceof Date && Math.abs(ap.CreatedAt.getTime() - Date.now()) < 60_000);
    assert.deepEqual(ap.PublicAccessBlock, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    assert.deepEqual(ap.Regions, [
      { Bucket: 'data-use1', Region: 'us-east-1', BucketAccountId: AccountId },
      { Bucket: 'data-euw1', Region: 'eu-west-1', BucketAccountId: AccountId },
    ]);

    // A retry with the same ClientToken and body is the same request; a different body is refused.
    const again = await c.send(
      new CreateMultiRegionAccessPointCommand({
        AccountId,
        ClientToken: 'create-orders-1',
        Details: { Name: 'orders', Regions: [{ Bucket: 'data-use1' }, { Bucket: 'data-euw1', BucketAccountId: AccountId }] },
      }),
    );
    assert.equal(again.RequestTokenARN, out.RequestTokenARN);
    await controlRejects(
      c.send(
        new CreateMultiRegionAccessPointCommand({
          AccountId,
          ClientToken: 'create-orders-1',
          Details: { Name: 'orders', Regions: [{ Bucket: 'data-use1' }] },
        }),
      ),
      'InvalidRequest',
      400,
    );
  });

  test('PublicAccessBlock settings are kept as given (missing ones default to true)', async () => {
    const out = await c.send(
      new CreateMultiRegionAccessPointCommand({
        AccountId,
        Details: {
          Name: 'open-ish',
          PublicAccessBlock: { BlockPublicAcls: false, RestrictPublicBuckets: false },
          Regions: [{ Bucket: 'data-apse1' }],
        },
      }),
    );
    assert.equal((await finished(c, out.RequestTokenARN)).RequestStatus, 'SUCCEEDED');
    const got = await c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'open-ish' }));
    assert.deepEqual(got.AccessPoint?.PublicAccessBlock, {
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    });
  });

  test('List pages through every MRAP of the account in name order', async () => {
    for (const name of ['list-a', 'list-b', 'list-c']) assert.equal((await create(c, name, ['data-use1'])).RequestStatus, 'SUCCEEDED');
    const page1 = await c.send(new ListMultiRegionAccessPointsCommand({ AccountId, MaxResults: 2 }));
    assert.equal(page1.AccessPoints?.length, 2);
    assert.ok(page1.NextToken);
    const names: string[] = [];
    for await (const page of paginateListMultiRegionAccessPoints({ client: c, pageSize: 2 }, { AccountId })) {
      assert.ok((page.AccessPoints?.length ?? 0) <= 2);
      names.push(...(page.AccessPoints ?? []).map((a) => a.Name!));
    }
    assert.deepEqual(names, [...names].sort());
    for (const n of ['list-a', 'list-b', 'list-c']) assert.ok(names.includes(n), `${n} listed`);
    const all = await c.send(new ListMultiRegionAccessPointsCommand({ AccountId }));
    assert.equal(all.NextToken, undefined);
    assert.deepEqual(all.AccessPoints?.map((a) => a.Name), names);
    const report = all.AccessPoints!.find((a) => a.Name === 'list-a')!;
    assert.equal(report.Status, 'READY');
    assert.deepEqual(report.Regions, [{ Bucket: 'data-use1', Region: 'us-east-1', BucketAccountId: AccountId }]);
    await controlRejects(c.send(new ListMultiRegionAccessPointsCommand({ AccountId, NextToken: '!!not-a-token!!' })), 'InvalidRequest', 400);
  });

  test('policy: Proposed first, then Established; status says whether it is public', async () => {
    // Public policies are blocked by default: this access point is created to take one.
    const created = await c.send(
      new CreateMultiRegionAccessPointCommand({
        AccountId,
        Details: { Name: 'with-policy', PublicAccessBlock: { BlockPublicPolicy: false }, Regions: [{ Bucket: 'data-use1' }, { Bucket: 'data-euw1' }] },
      }),
    );
    assert.equal((await finished(c, created.RequestTokenARN)).RequestStatus, 'SUCCEEDED');
    const none = await c.send(new GetMultiRegionAccessPointPolicyCommand({ AccountId, Name: 'with-policy' }));
    assert.equal(none.Policy?.Established?.Policy, undefined);
    const noneStatus = await c.send(new GetMultiRegionAccessPointPolicyStatusCommand({ AccountId, Name: 'with-policy' }));
    assert.equal(noneStatus.Established?.IsPublic, false);

    const put = await c.send(
      new PutMultiRegionAccessPointPolicyCommand({ AccountId, Details: { Name: 'with-policy', Policy: POLICY_PRIVATE } }),
    );
    assert.match(put.RequestTokenARN!, /:async-request\/mrap\/put-policy\/[0-9a-f]{32}$/);
    assert.equal((await finished(c, put.RequestTokenARN)).RequestStatus, 'SUCCEEDED');
    const got = await c.send(new GetMultiRegionAccessPointPolicyCommand({ AccountId, Name: 'with-policy' }));
    assert.equal(got.Policy?.Established?.Policy, POLICY_PRIVATE);
    assert.equal(got.Policy?.Proposed?.Policy, POLICY_PRIVATE);
    const status = await c.send(new GetMultiRegionAccessPointPolicyStatusCommand({ AccountId, Name: 'with-policy' }));
    assert.equal(status.Established?.IsPublic, false);

    const put2 = await c.send(
      new PutMultiRegionAccessPointPolicyCommand({ AccountId, Details: { Name: 'with-policy', Policy: POLICY_PUBLIC } }),
    );
    const rolling = await eventually(
      async () => {
        const p = await c.send(new GetMultiRegionAccessPointPolicyCommand({ AccountId, Name: 'with-policy' }));
        assert.equal(p.Policy?.Proposed?.Policy, POLICY_PUBLIC);
        return p;
      },
      { intervalMs: 5 },
    );
    assert.equal(rolling.Policy?.Established?.Policy, POLICY_PRIVATE, 'the old policy stays in force until the new one is established');
    const op = await finished(c, put2.RequestTokenARN);
    assert.equal(op.RequestStatus, 'SUCCEEDED');
    assert.equal(op.RequestParameters?.PutMultiRegionAccessPointPolicyRequest?.Policy, POLICY_PUBLIC);
    const publicStatus = await c.send(new GetMultiRegionAccessPointPolicyStatusCommand({ AccountId, Name: 'with-policy' }));
    assert.equal(publicStatus.Established?.IsPublic, true);

    const bad = await c.send(
      new PutMultiRegionAccessPointPolicyCommand({ AccountId, Details: { Name: 'with-policy', Policy: '{"Statement": "nope"' } }),
    );
    const failed = await finished(c, bad.RequestTokenARN);
    assert.equal(failed.RequestStatus, 'FAILED');
    assert.equal(failed.ResponseDetails?.ErrorDetails?.Code, 'MalformedPolicy');
    const unchanged = await c.send(new GetMultiRegionAccessPointPolicyCommand({ AccountId, Name: 'with-policy' }));
    assert.equal(unchanged.Policy?.Established?.Policy, POLICY_PUBLIC);
  });

  test("BlockPublicPolicy: a public policy FAILS with AccessDenied on an MRAP that blocks them (the default) or whose account does", async () => {
    const putPolicy = async (Name: string, Policy: string) =>
      finished(c, (await c.send(new PutMultiRegionAccessPointPolicyCommand({ AccountId, Details: { Name, Policy } }))).RequestTokenARN);
    const established = async (Name: string) =>
      (await c.send(new GetMultiRegionAccessPointPolicyCommand({ AccountId, Name }))).Policy?.Established?.Policy;
    const isPublic = async (Name: string) =>
      (await c.send(new GetMultiRegionAccessPointPolicyStatusCommand({ AccountId, Name }))).Established?.IsPublic;

    // The access point's own setting, on because the create request left it out.
    assert.equal((await create(c, 'guarded', ['data-use1'])).RequestStatus, 'SUCCEEDED');
    const refused = await putPolicy('guarded', POLICY_PUBLIC);
    assert.equal(refused.RequestStatus, 'FAILED');
    assert.equal(refused.ResponseDetails?.ErrorDetails?.Code, 'AccessDenied');
    assert.equal(refused.ResponseDetails?.ErrorDetails?.Message, 'Access denied.');
    assert.equal(await established('guarded'), undefined, 'nothing was put');
    assert.equal(await isPublic('guarded'), false);
    assert.equal((await putPolicy('guarded', POLICY_PRIVATE)).RequestStatus, 'SUCCEEDED', 'a policy that is not public is taken');
    assert.equal(await established('guarded'), POLICY_PRIVATE);

    // The account's setting (S3 Control PutPublicAccessBlock), over an access point that allows them.
    const open = await c.send(
      new CreateMultiRegionAccessPointCommand({
        AccountId,
        Details: {
          Name: 'account-guarded',
          PublicAccessBlock: { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false },
          Regions: [{ Bucket: 'data-use1' }],
        },
      }),
    );
    assert.equal((await finished(c, open.RequestTokenARN)).RequestStatus, 'SUCCEEDED');
    await c.send(new PutPublicAccessBlockCommand({ AccountId, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
    try {
      const blocked = await putPolicy('account-guarded', POLICY_PUBLIC);
      assert.equal(blocked.RequestStatus, 'FAILED');
      assert.equal(blocked.ResponseDetails?.ErrorDetails?.Code, 'AccessDenied');
      assert.equal(await established('account-guarded'), undefined);
    } finally {
      await c.send(new DeletePublicAccessBlockCommand({ AccountId }));
    }
    assert.equal((await putPolicy('account-guarded', POLICY_PUBLIC)).RequestStatus, 'SUCCEEDED');
    assert.equal(await established('account-guarded'), POLICY_PUBLIC);
    assert.equal(await isPublic('account-guarded'), true);
  });

  test('routes: all active after create; partial updates; at least one active; 0 or 100 only; concurrent update 409', async () => {
    assert.equal((await create(c, 'failover', ['data-use1', 'data-euw1', 'data-apse1'])).RequestStatus, 'SUCCEEDED');
    const { AccessPoint } = await c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'failover' }));
    const Mrap = `arn:aws:s3::${AccountId}:accesspoint/${AccessPoint!.Alias}`;
    const routes = async () => (await c.send(new GetMultiRegionAccessPointRoutesCommand({ AccountId, Mrap }))).Routes;

    const initial = await c.send(new GetMultiRegionAccessPointRoutesCommand({ AccountId, Mrap }));
    assert.equal(initial.Mrap, Mrap);
    assert.deepEqual(initial.Routes, [
      { Bucket: 'data-use1', Region: 'us-east-1', TrafficDialPercentage: 100 },
      { Bucket: 'data-euw1', Region: 'eu-west-1', TrafficDialPercentage: 100 },
      { Bucket: 'data-apse1', Region: 'ap-southeast-1', TrafficDialPercentage: 100 },
    ]);

    await c.send(
      new SubmitMultiRegionAccessPointRoutesCommand({
        AccountId,
        Mrap,
        RouteUpdates: [{ Region: 'eu-west-1', TrafficDialPercentage: 0 }, { Bucket: 'data-apse1', TrafficDialPercentage: 0 }],
      }),
    );
    assert.deepEqual((await routes())?.map((r) => r.TrafficDialPercentage), [100, 0, 0]);
    // Failover: swap the active Region; us-east-1 is named by bucket and Region together.
    await c.send(
      new SubmitMultiRegionAccessPointRoutesCommand({
        AccountId,
        Mrap,
        RouteUpdates: [
          { Region: 'eu-west-1', TrafficDialPercentage: 100 },
          { Bucket: 'data-use1', Region: 'us-east-1', TrafficDialPercentage: 0 },
        ],
      }),
    );
    assert.deepEqual((await routes())?.map((r) => r.TrafficDialPercentage), [0, 100, 0]);

    const submit = (RouteUpdates: { Bucket?: string; Region?: string; TrafficDialPercentage: number }[], mrap = Mrap) =>
      c.send(new SubmitMultiRegionAccessPointRoutesCommand({ AccountId, Mrap: mrap, RouteUpdates }));
    await controlRejects(submit([{ Region: 'eu-west-1', TrafficDialPercentage: 0 }]), 'InvalidRequest', 400);
    await controlRejects(submit([{ Region: 'us-east-1', TrafficDialPercentage: 50 }]), 'InvalidRequest', 400);
    await controlRejects(submit([{ Bucket: 'data-use1', Region: 'eu-west-1', TrafficDialPercentage: 100 }]), 'InvalidRequest', 400);
    await controlRejects(submit([{ Bucket: 'not-in-this-mrap', TrafficDialPercentage: 100 }]), 'InvalidRequest', 400);
    await controlRejects(submit([{ Region: 'us-east-1', TrafficDialPercentage: 100 }], 'not-an-arn'), 'InvalidRequest', 400);
    await controlRejects(
      c.send(new GetMultiRegionAccessPointRoutesCommand({ AccountId, Mrap: `arn:aws:s3::${AccountId}:accesspoint/nosuchalias.mrap` })),
      'NoSuchMultiRegionAccessPoint',
      404,
    );
    assert.deepEqual((await routes())?.map((r) => r.TrafficDialPercentage), [0, 100, 0], 'refused updates change nothing');

    // Two updates of one MRAP at once (each holds it for 150 ms): the one that takes it first
    // wins, the other is 409 (under load the second may overtake the first, hence either way).
    const updates = [
      [{ Region: 'us-east-1', TrafficDialPercentage: 100 }],
      [{ Region: 'ap-southeast-1', TrafficDialPercentage: 100 }],
    ];
    const results = await Promise.allSettled([
      submit(updates[0]),
      new Promise((resolve) => setTimeout(resolve, 40)).then(() => submit(updates[1])),
    ]);
    const won = results.findIndex((r) => r.status === 'fulfilled');
    const lost = results.findIndex((r) => r.status === 'rejected');
    assert.ok(won !== -1 && lost !== -1, 'exactly one of two concurrent updates succeeds');
    await controlRejects(Promise.reject((results[lost] as PromiseRejectedResult).reason), 'OperationAborted', 409);
    assert.deepEqual((await routes())?.map((r) => r.TrafficDialPercentage), won === 0 ? [100, 100, 0] : [0, 100, 100]);
  });

  test('failover on a single-Region MRAP is 405', async () => {
    assert.equal((await create(c, 'single', ['data-use1'])).RequestStatus, 'SUCCEEDED');
    const { AccessPoint } = await c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'single' }));
    const Mrap = `arn:aws:s3::${AccountId}:accesspoint/${AccessPoint!.Alias}`;
    await controlRejects(
      c.send(new SubmitMultiRegionAccessPointRoutesCommand({ AccountId, Mrap, RouteUpdates: [{ Region: 'us-east-1', TrafficDialPercentage: 100 }] })),
      'MethodNotAllowed',
      405,
    );
    const got = await c.send(new GetMultiRegionAccessPointRoutesCommand({ AccountId, Mrap }));
    assert.deepEqual(got.Routes, [{ Bucket: 'data-use1', Region: 'us-east-1', TrafficDialPercentage: 100 }]);
  });

  test('delete: DELETING, then gone; the name can be used again, never the alias', async () => {
    assert.equal((await create(c, 'short-lived', ['data-use1', 'data-euw1'])).RequestStatus, 'SUCCEEDED');
    const before = await c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'short-lived' }));
    const del = await c.send(new DeleteMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'short-lived' } }));
    assert.match(del.RequestTokenARN!, /:async-request\/mrap\/delete\/[0-9a-f]{32}$/);
    await eventually(
      async () => {
        const got = await c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'short-lived' }));
        assert.equal(got.AccessPoint?.Status, 'DELETING');
      },
      { intervalMs: 5 },
    );
    const op = await finished(c, del.RequestTokenARN);
    assert.equal(op.RequestStatus, 'SUCCEEDED');
    assert.equal(op.RequestParameters?.DeleteMultiRegionAccessPointRequest?.Name, 'short-lived');
    await controlRejects(c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'short-lived' })), 'NoSuchMultiRegionAccessPoint', 404);
    const gone = await c.send(new ListMultiRegionAccessPointsCommand({ AccountId }));
    assert.ok(!gone.AccessPoints?.some((a) => a.Name === 'short-lived'));

    assert.equal((await create(c, 'short-lived', ['data-use1'])).RequestStatus, 'SUCCEEDED');
    const reborn = await c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'short-lived' }));
    assert.notEqual(reborn.AccessPoint?.Alias, before.AccessPoint?.Alias);
  });

  test('asynchronous failures come back in ErrorDetails of a 200 Describe', async () => {
    const cases: Array<[string, () => Promise<{ RequestTokenARN?: string }>, string]> = [
      ['missing bucket', () => c.send(new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'no-bucket', Regions: [{ Bucket: 'data-use1' }, { Bucket: 'no-such-bucket-anywhere' }] } })), 'NoSuchBucket'],
      ['bucket of another account', () => c.send(new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'wrong-owner', Regions: [{ Bucket: 'data-use1', BucketAccountId: '999999999999' }] } })), 'NoSuchBucket'],
      ['two buckets in one Region', () => c.send(new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'same-region', Regions: [{ Bucket: 'data-use1' }, { Bucket: 'other-use1' }] } })), 'MultiRegionAccessPointSameBucketRegion'],
      ['name taken', () => c.send(new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'orders', Regions: [{ Bucket: 'data-apse1' }] } })), 'MultiRegionAccessPointAlreadyOwnedByYou'],
      ['delete unknown', () => c.send(new DeleteMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'never-was' } })), 'NoSuchMultiRegionAccessPoint'],
      ['policy of unknown', () => c.send(new PutMultiRegionAccessPointPolicyCommand({ AccountId, Details: { Name: 'never-was', Policy: POLICY_PRIVATE } })), 'NoSuchMultiRegionAccessPoint'],
    ];
    for (const [what, send, code] of cases) {
      const out = await send();
      const op = await finished(c, out.RequestTokenARN);
      assert.equal(op.RequestStatus, 'FAILED', what);
      assert.equal(op.ResponseDetails?.ErrorDetails?.Code, code, what);
      assert.ok(op.ResponseDetails?.ErrorDetails?.Message, what);
      assert.ok(op.ResponseDetails?.ErrorDetails?.RequestId, what);
    }
    await controlRejects(c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'same-region' })), 'NoSuchMultiRegionAccessPoint', 404);
  });

  test('a second change while one is in progress fails with MultiRegionAccessPointModifiedByAnotherRequest', async () => {
    assert.equal((await create(c, 'busy', ['data-use1', 'data-euw1'])).RequestStatus, 'SUCCEEDED');
    const p1 = await c.send(new PutMultiRegionAccessPointPolicyCommand({ AccountId, Details: { Name: 'busy', Policy: POLICY_PRIVATE } }));
    // The policy's work starts 250 ms after it is accepted and takes 250 ms; the delete's starts
    // 50 ms later, while the policy's is in progress.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const del = await c.send(new DeleteMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'busy' } }));
    const [first, second] = await Promise.all([finished(c, p1.RequestTokenARN), finished(c, del.RequestTokenARN)]);
    assert.equal(first.RequestStatus, 'SUCCEEDED');
    assert.equal(second.RequestStatus, 'FAILED');
    assert.equal(second.ResponseDetails?.ErrorDetails?.Code, 'MultiRegionAccessPointModifiedByAnotherRequest');
  });

  test('synchronous errors: unknown token, unknown name, invalid input, wrong account', async () => {
    await controlRejects(
      c.send(new DescribeMultiRegionAccessPointOperationCommand({ AccountId, RequestTokenARN: `arn:aws:s3:us-west-2:${AccountId}:async-request/mrap/create/${'0'.repeat(32)}` })),
      'NoSuchAsyncRequest',
      404,
    );
    await controlRejects(c.send(new DescribeMultiRegionAccessPointOperationCommand({ AccountId, RequestTokenARN: 'arn:nonsense' })), 'NoSuchAsyncRequest', 404);
    for (const Name of ['nope', 'never-created']) {
      await controlRejects(c.send(new GetMultiRegionAccessPointCommand({ AccountId, Name })), 'NoSuchMultiRegionAccessPoint', 404);
      await controlRejects(c.send(new GetMultiRegionAccessPointPolicyCommand({ AccountId, Name })), 'NoSuchMultiRegionAccessPoint', 404);
      await controlRejects(c.send(new GetMultiRegionAccessPointPolicyStatusCommand({ AccountId, Name })), 'NoSuchMultiRegionAccessPoint', 404);
    }
    for (const Name of ['Upper', 'ab', '-dash', 'dash-', 'under_score', 'a'.repeat(51)]) {
      await controlRejects(
        c.send(new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name, Regions: [{ Bucket: 'data-use1' }] } })),
        'InvalidRequest',
        400,
      );
    }
    const eighteen = Array.from({ length: 18 }, (_, i) => ({ Bucket: `bucket-${i}` }));
    await controlRejects(c.send(new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'too-many', Regions: eighteen } })), 'InvalidRequest', 400);
    await controlRejects(c.send(new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'no-regions', Regions: [] } })), 'InvalidRequest', 400);
    await controlRejects(
      c.send(new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'bad-account', Regions: [{ Bucket: 'data-use1', BucketAccountId: '12' }] } })),
      'InvalidRequest',
      400,
    );
    await controlRejects(c.send(new ListMultiRegionAccessPointsCommand({ AccountId: '999999999999' })), 'AccessDenied', 403);
    await controlRejects(c.send(new ListMultiRegionAccessPointsCommand({ AccountId: '12345' })), 'AccessDenied', 403);
  });

  test('raw requests: MalformedXML, missing x-amz-account-id, anonymous, unknown and wrong-method routes', async () => {
    const ep = w.globalEndpoint;
    const headers = { 'x-amz-account-id': AccountId };
    const signed = { region: 'us-west-2' };
    assertS3Error(await rawRequest(ep, { method: 'POST', path: '/v20180820/async-requests/mrap/create', headers, body: '<Create' }, signed), 'MalformedXML', 400);
    assertS3Error(
      await rawRequest(ep, { method: 'POST', path: '/v20180820/async-requests/mrap/create', headers, body: '<WrongRoot xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"/>' }, signed),
      'MalformedXML',
      400,
    );
    assertS3Error(
      await rawRequest(ep, { method: 'POST', path: '/v20180820/async-requests/mrap/delete', headers: { ...headers, 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' }, body: '<DeleteMultiRegionAccessPointRequest/>' }, signed),
      'BadDigest',
      400,
    );
    assertS3Error(await rawRequest(ep, { method: 'GET', path: '/v20180820/mrap/instances' }, signed), 'InvalidRequest', 400);
    const anonymous = await fetch(`${ep}/v20180820/mrap/instances`, { headers });
    assertS3Error({ status: anonymous.status, headers: Object.fromEntries(anonymous.headers), text: await anonymous.text(), body: Buffer.alloc(0) }, 'AccessDenied', 403);
    assertS3Error(await rawRequest(ep, { method: 'GET', path: '/v20180820/accesspoint', headers }, signed), 'NotImplemented', 501);
    assertS3Error(await rawRequest(ep, { method: 'DELETE', path: '/v20180820/mrap/instances/orders', headers }, signed), 'MethodNotAllowed', 405);
    // Signed for any Region: the route calls are served by the failover Regions.
    const ok = await rawRequest(ep, { method: 'GET', path: '/v20180820/mrap/instances/orders', headers }, { region: 'eu-west-1' });
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /<GetMultiRegionAccessPointResult xmlns="http:\/\/awss3control\.amazonaws\.com\/doc\/2018-08-20\/"><AccessPoint><Name>orders<\/Name>/);
    assert.ok(ok.headers['x-amz-request-id'] && ok.headers['x-amz-id-2']);
  });

  test('health and readiness answer JSON', async () => {
    for (const path of ['/_meridian/health', '/_meridian/ready']) {
      const res = await fetch(`${w.globalEndpoint}${path}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /json/);
      assert.ok(res.headers.get('x-amz-request-id'));
      assert.equal(((await res.json()) as { endpoint: string }).endpoint, 'global');
    }
  });
});

describe('MRAP definitions and requests survive a restart', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'meridian-mrap-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  test('an MRAP, its policy, routes and request tokens persist; an unfinished create is resumed', async () => {
    const w1 = await startTestWorld({ dataDir, mrapControl: { asyncDelayMs: 100 } });
    const c1 = controlClient(w1);
    let alias: string;
    let token: string;
    let pending: string;
    try {
      await createBuckets(w1, { 'keep-use1': 'us-east-1', 'keep-euw1': 'eu-west-1' });
      const created = await c1.send(
        new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'durable', Regions: [{ Bucket: 'keep-use1' }, { Bucket: 'keep-euw1' }] } }),
      );
      token = created.RequestTokenARN!;
      assert.equal((await finished(c1, token)).RequestStatus, 'SUCCEEDED');
      const put = await c1.send(new PutMultiRegionAccessPointPolicyCommand({ AccountId, Details: { Name: 'durable', Policy: POLICY_PRIVATE } }));
      assert.equal((await finished(c1, put.RequestTokenARN)).RequestStatus, 'SUCCEEDED');
      alias = (await c1.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'durable' }))).AccessPoint!.Alias!;
      await c1.send(
        new SubmitMultiRegionAccessPointRoutesCommand({
          AccountId,
          Mrap: `arn:aws:s3::${AccountId}:accesspoint/${alias}`,
          RouteUpdates: [{ Region: 'eu-west-1', TrafficDialPercentage: 0 }],
        }),
      );
      // Accepted, then the endpoint stops before the background work is done.
      pending = (
        await c1.send(new CreateMultiRegionAccessPointCommand({ AccountId, Details: { Name: 'unfinished', Regions: [{ Bucket: 'keep-euw1' }] } }))
      ).RequestTokenARN!;
    } finally {
      c1.destroy();
      await w1.close();
    }

    const w2 = await startTestWorld({ dataDir, mrapControl: { asyncDelayMs: 100 } });
    const c2 = controlClient(w2);
    try {
      const got = await c2.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'durable' }));
      assert.equal(got.AccessPoint?.Status, 'READY');
      assert.equal(got.AccessPoint?.Alias, alias);
      const policy = await c2.send(new GetMultiRegionAccessPointPolicyCommand({ AccountId, Name: 'durable' }));
      assert.equal(policy.Policy?.Established?.Policy, POLICY_PRIVATE);
      const routes = await c2.send(new GetMultiRegionAccessPointRoutesCommand({ AccountId, Mrap: `arn:aws:s3::${AccountId}:accesspoint/${alias}` }));
      assert.deepEqual(routes.Routes?.map((r) => [r.Region, r.TrafficDialPercentage]), [['us-east-1', 100], ['eu-west-1', 0]]);
      const old = await c2.send(new DescribeMultiRegionAccessPointOperationCommand({ AccountId, RequestTokenARN: token }));
      assert.equal(old.AsyncOperation?.RequestStatus, 'SUCCEEDED');
      assert.equal((await finished(c2, pending)).RequestStatus, 'SUCCEEDED');
      const resumed = await c2.send(new GetMultiRegionAccessPointCommand({ AccountId, Name: 'unfinished' }));
      assert.equal(resumed.AccessPoint?.Status, 'READY');
    } finally {
      c2.destroy();
      await w2.close();
    }
  });
});
