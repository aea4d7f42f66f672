/**
 * A request line in absolute form (`GET http://host/bucket/key HTTP/1.1`), what a client sends
 * through an HTTP proxy pointed at Meridian: served as the origin form, with the authority of
 * the target, not the Host header, naming the endpoint and a virtual-hosted bucket (RFC 9112).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { sendRaw, signRequest } from './helpers/raw-request.ts';
import { startTestWorld, type TestWorld } from './helpers/world.ts';

describe('absolute-form request targets', () => {
  let w: TestWorld;
  let endpoint: string;

  before(async () => {
    w = await startTestWorld();
    endpoint = w.endpoint('us-east-1');
    const s3 = w.client('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: 'absolute' }));
    await s3.send(new PutObjectCommand({ Bucket: 'absolute', Key: 'a/../b c.txt', Body: 'kept as data' }));
  });
  after(() => w.close());

  test('path-style: the key comes back, dot segments and all', async () => {
    const signed = await signRequest(endpoint, { method: 'GET', path: '/absolute/a/../b%20c.txt' });
    const res = await sendRaw(endpoint, { ...signed, target: `${endpoint}${signed.target}` });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, 'kept as data');
  });

  test('virtual-hosted: the authority names the bucket, whatever the Host header says', async () => {
    const port = new URL(endpoint).port;
    const authority = `absolute.localhost:${port}`;
    const signed = await signRequest(`http://${authority}`, { method: 'GET', path: '/a/../b%20c.txt' });
    const res = await sendRaw(endpoint, {
      ...signed,
      target: `http://${authority}${signed.target}`,
      headers: { ...signed.headers, host: 'elsewhere.example' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, 'kept as data');
  });

  test('a bucket listing with only a query after the authority', async () => {
    const port = new URL(endpoint).port;
    const authority = `absolute.localhost:${port}`;
    const signed = await signRequest(`http://${authority}`, { method: 'GET', path: '/', query: { 'list-type': '2' } });
    const target = `http://${authority}${signed.target.slice(1)}`;
    assert.ok(target.includes(':' + port + '?'), target);
    const res = await sendRaw(endpoint, { ...signed, target });
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<Key>a\/\.\.\/b c\.txt<\/Key>/);
  });
});
