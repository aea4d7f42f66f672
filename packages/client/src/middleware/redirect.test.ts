import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import type { HandlerExecutionContext, InitializeHandlerArguments } from '@aws-sdk/types';
import { BodyNotReplayableError } from '../body-replay.ts';
import { MemoryRegionCache } from '../cache/memory.ts';
import { regionState } from './context.ts';
import { redirectMiddleware, type RedirectOptions } from './redirect.ts';

type Input = Record<string, unknown>;

/** An S3 error as the SDK throws it. */
function s3Error(name: string, status: number, extra: { header?: string; Region?: string; Endpoint?: string } = {}): Error {
  const err = new Error(name) as Error & Record<string, unknown>;
  err.name = name;
  err.$metadata = { httpStatusCode: status };
  err.$response = { statusCode: status, headers: extra.header ? { 'x-amz-bucket-region': extra.header } : {} };
  if (extra.Region) err.Region = extra.Region;
  if (extra.Endpoint) err.Endpoint = extra.Endpoint;
  return err;
}

function harness(overrides: Partial<RedirectOptions> = {}) {
  const cache = new MemoryRegionCache();
  const resent: { region: string; input: Input }[] = [];
  const probes: string[] = [];
  const options: RedirectOptions = {
    region: 'us-east-1',
    cache,
    endpoints: { 'us-east-1': 'http://127.0.0.1:9000', 'eu-west-1': 'http://127.0.0.1:9001' },
    probe: async (bucket) => {
      probes.push(bucket);
      return 'ap-southeast-1';
    },
    redispatch: async (region, input) => {
      resent.push({ region, input });
      return { resentTo: region, $metadata: {} };
    },
    maxReplayBytes: 1024,
    ...overrides,
  };
  const mw = redirectMiddleware<Input, object>(options);
  async function run(
    input: Input,
    next: (args: InitializeHandlerArguments<Input>, context: HandlerExecutionContext) => Promise<unknown>,
    commandName = 'GetObjectCommand',
    context: HandlerExecutionContext = { commandName },
  ): Promise<unknown> {
    const handler = mw(async (args) => ({ output: (await next(args, context)) as object, response: {} }), context);
    return (await handler({ input })).output;
  }
  return { cache, resent, probes, run };
}

const fail = (err: Error) => async () => {
  throw err;
};

describe('redirect middleware', () => {
  test('301 with a body and x-amz-bucket-region: resend once to that region, and cache it', async () => {
    const h = harness();
    const out = await h.run({ Bucket: 'b', Key: 'k' }, fail(s3Error('PermanentRedirect', 301, { header: 'eu-west-1', Endpoint: '127.0.0.1:9001' })));
    assert.deepEqual(out, { resentTo: 'eu-west-1', $metadata: {} });
    assert.deepEqual(h.resent, [{ region: 'eu-west-1', input: { Bucket: 'b', Key: 'k' } }]);
    assert.equal(await h.cache.get('b'), 'eu-west-1');
    assert.deepEqual(h.probes, []);
  });

  test('301 to a HEAD (no body, SDK error "Unknown"): the region comes from the header captured off the raw response', async () => {
    const h = harness();
    const bodyless = new Error('UnknownError') as Error & Record<string, unknown>;
    bodyless.name = 'Unknown';
    bodyless.$metadata = { httpStatusCode: 301 };
    await h.run({ Bucket: 'b', Key: 'k' }, async (_args, context) => {
      regionState(context).bucketRegionHeader = 'eu-west-1'; // what the capture middleware records
      throw bodyless;
    }, 'HeadObjectCommand');
    assert.deepEqual(h.resent.map((r) => r.region), ['eu-west-1']);
    assert.deepEqual(h.probes, []);
  });

  test('301 with only <Endpoint>: a configured endpoint maps back to its region', async () => {
    const h = harness();
    await h.run({ Bucket: 'b' }, fail(s3Error('PermanentRedirect', 301, { Endpoint: '127.0.0.1:9001' })));
    assert.deepEqual(h.resent.map((r) => r.region), ['eu-west-1']);
  });

  test('307 TemporaryRedirect with an AWS regional <Endpoint>', async () => {
    const h = harness();
    await h.run({ Bucket: 'b' }, fail(s3Error('TemporaryRedirect', 307, { Endpoint: 'b.s3.eu-central-1.amazonaws.com' })));
    assert.deepEqual(h.resent.map((r) => r.region), ['eu-central-1']);
  });

  test('400 AuthorizationHeaderMalformed with <Region>', async () => {
    const h = harness();
    await h.run({ Bucket: 'b' }, fail(s3Error('AuthorizationHeaderMalformed', 400, { Region: 'eu-west-1' })));
    assert.deepEqual(h.resent.map((r) => r.region), ['eu-west-1']);
  });

  test('400 AuthorizationQueryParametersError with <Region>', async () => {
    const h = harness();
    await h.run({ Bucket: 'b' }, fail(s3Error('AuthorizationQueryParametersError', 400, { Region: 'ap-southeast-1' })));
    assert.deepEqual(h.resent.map((r) => r.region), ['ap-southeast-1']);
  });

  test('400 IllegalLocationConstraintException names no region: probe, then resend', async () => {
    const h = harness();
    await h.run({ Bucket: 'b' }, fail(s3Error('IllegalLocationConstraintException', 400)));
    assert.deepEqual(h.probes, ['b']);
    assert.deepEqual(h.resent.map((r) => r.region), ['ap-southeast-1']);
    assert.equal(await h.cache.get('b'), 'ap-southeast-1');
  });

  test('IllegalLocationConstraintException on CreateBucket is the caller\'s mistake: it surfaces, no probe', async () => {
    const h = harness();
    const err = s3Error('IllegalLocationConstraintException', 400);
    await assert.rejects(h.run({ Bucket: 'b' }, fail(err), 'CreateBucketCommand'), err);
    assert.deepEqual(h.probes, []);
    assert.deepEqual(h.resent, []);
  });

  test('a 301 naming no region anywhere: the probe finds it', async () => {
    const h = harness();
    await h.run({ Bucket: 'b' }, fail(s3Error('PermanentRedirect', 301)));
    assert.deepEqual(h.probes, ['b']);
    assert.deepEqual(h.resent.map((r) => r.region), ['ap-southeast-1']);
  });

  test('the probe fails too: the original error surfaces, nothing cached', async () => {
    const h = harness({ probe: async () => undefined });
    const err = s3Error('PermanentRedirect', 301);
    await assert.rejects(h.run({ Bucket: 'b' }, fail(err)), err);
    assert.deepEqual(h.resent, []);
    assert.equal(await h.cache.get('b'), undefined);
  });

  test('an answer naming this very region is not a redirect: the original error surfaces', async () => {
    const h = harness({ probe: async () => 'us-east-1' });
    const err = s3Error('AuthorizationHeaderMalformed', 400, { Region: 'us-east-1' });
    await assert.rejects(h.run({ Bucket: 'b' }, fail(err)), err);
    assert.deepEqual(h.resent, []);
  });

  test('a request that is already the resend is never resent again', async () => {
    const h = harness();
    const err = s3Error('PermanentRedirect', 301, { header: 'eu-west-1' });
    const context: HandlerExecutionContext = { commandName: 'GetObjectCommand' };
    regionState(context).redispatched = true;
    await assert.rejects(h.run({ Bucket: 'b' }, fail(err), 'GetObjectCommand', context), err);
    assert.deepEqual(h.resent, []);
  });

  test('other errors and bucketless commands pass through untouched', async () => {
    const h = harness();
    const missing = s3Error('NoSuchKey', 404, { header: 'eu-west-1' });
    await assert.rejects(h.run({ Bucket: 'b' }, fail(missing)), missing);
    const redirect = s3Error('PermanentRedirect', 301, { header: 'eu-west-1' });
    await assert.rejects(h.run({}, fail(redirect), 'ListBucketsCommand'), redirect);
    assert.deepEqual(h.resent, []);
    assert.deepEqual(h.probes, []);
  });

  test('a success learns nothing', async () => {
    const h = harness();
    const out = await h.run({ Bucket: 'b' }, async () => ({ ok: true }));
    assert.deepEqual(out, { ok: true });
    assert.equal(await h.cache.get('b'), undefined);
    assert.deepEqual(h.probes, []);
  });

  test('bodies: a Buffer is resent as is; a small stream is recorded and resent whole', async () => {
    const h = harness();
    const buf = Buffer.from('bytes');
    await h.run({ Bucket: 'b', Body: buf }, fail(s3Error('PermanentRedirect', 301, { header: 'eu-west-1' })));
    assert.equal(h.resent[0].input.Body, buf);

    // The first attempt reads part of the stream before the answer comes back.
    await h.run({ Bucket: 'b', Body: Readable.from([Buffer.from('abc'), Buffer.from('def'), Buffer.from('ghi')]) }, async (args) => {
      const body = args.input.Body as Readable;
      const first = await new Promise<Buffer>((resolve) => body.once('data', resolve));
      assert.equal(first.toString(), 'abc');
      body.pause();
      throw s3Error('PermanentRedirect', 301, { header: 'eu-west-1' });
    });
    assert.equal((h.resent[1].input.Body as Buffer).toString(), 'abcdefghi');
  });

  test('bodies: a stream larger than the bound is refused with a clear error, never truncated', async () => {
    const h = harness({ maxReplayBytes: 10 });
    const err = s3Error('PermanentRedirect', 301, { header: 'eu-west-1' });
    await assert.rejects(
      h.run({ Bucket: 'b', Body: Readable.from([Buffer.alloc(8), Buffer.alloc(8)]) }, fail(err)),
      (e: Error) => e instanceof BodyNotReplayableError && e.cause === err && /larger than 10 bytes/.test(e.message) && /'@region'/.test(e.message),
    );
    assert.deepEqual(h.resent, []);
  });

  test('concurrency: two requests in flight through one middleware keep their own state', async () => {
    const h = harness();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = h.run({ Bucket: 'a', Body: 'A' }, async (_args, context) => {
      await gate;
      regionState(context).bucketRegionHeader = 'eu-west-1';
      throw s3Error('Unknown', 301);
    }, 'HeadObjectCommand');
    const b = h.run({ Bucket: 'b', Body: 'B' }, async (_args, context) => {
      regionState(context).bucketRegionHeader = 'ap-southeast-1';
      release();
      throw s3Error('Unknown', 301);
    }, 'HeadObjectCommand');
    await Promise.all([a, b]);
    const byBucket = Object.fromEntries(h.resent.map((r) => [r.input.Bucket, [r.region, r.input.Body]]));
    assert.deepEqual(byBucket, { a: ['eu-west-1', 'A'], b: ['ap-southeast-1', 'B'] });
  });
});
