import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpRequest } from '@aws-sdk/types';
import { headBucketProbe } from './probe.ts';

function fakeHandler(answer: (req: HttpRequest) => Record<string, string> | Error) {
  const seen: HttpRequest[] = [];
  return {
    seen,
    handler: {
      handle: async (req: HttpRequest) => {
        seen.push(req);
        const headers = answer(req);
        if (headers instanceof Error) throw headers;
        return { response: { statusCode: 403, headers } };
      },
    },
  };
}

test('the probe is an unsigned HEAD of the bucket that reads x-amz-bucket-region', async () => {
  const { seen, handler } = fakeHandler(() => ({ 'x-amz-bucket-region': 'eu-west-1' }));
  const probe = headBucketProbe({ requestHandler: handler, endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
  assert.equal(await probe('photos'), 'eu-west-1');
  assert.equal(seen[0].method, 'HEAD');
  assert.equal(seen[0].path, '/photos');
  assert.equal(seen[0].hostname, '127.0.0.1');
  assert.equal(seen[0].headers.authorization, undefined);
});

test('on AWS the probe is virtual-hosted; no header or a network error resolve undefined', async () => {
  const aws = fakeHandler(() => ({}));
  assert.equal(await headBucketProbe({ requestHandler: aws.handler })('photos'), undefined);
  assert.equal(aws.seen[0].hostname, 'photos.s3.amazonaws.com');
  const down = fakeHandler(() => new Error('ECONNREFUSED'));
  assert.equal(await headBucketProbe({ requestHandler: down.handler })('photos'), undefined);
});
