import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MultiRegionS3Client } from '../src/index.ts';
import { CountingHandler } from './helpers.ts';

interface Recorded {
  method?: string;
  url?: string;
  host?: string;
  authorization?: string;
}

// The Meridian global endpoint does not exist yet: a local server stands in and records what reaches it.
let server: Server;
let globalEndpoint: string;
const recorded: Recorded[] = [];

before(async () => {
  server = createServer((req: IncomingMessage, res) => {
    recorded.push({ method: req.method, url: req.url, host: req.headers.host, authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-amz-request-id': 'fake' });
      res.end(req.method === 'GET' ? 'from the global endpoint' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  globalEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function client(http: CountingHandler): MultiRegionS3Client {
  return new MultiRegionS3Client({
    region: 'us-east-1',
    // Regional endpoints that must never be used for an MRAP (nothing listens there).
    endpoints: { 'us-east-1': 'http://127.0.0.1:1', 'eu-west-1': 'http://127.0.0.1:2' },
    globalEndpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: http,
  });
}

test('an MRAP ARN goes to the global endpoint, path-style, as <alias>.mrap', async () => {
  recorded.length = 0;
  const http = new CountingHandler();
  const s3 = client(http);
  const out = await s3.send(new GetObjectCommand({ Bucket: 'arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap', Key: 'a/b.txt' }));
  assert.equal(await out.Body?.transformToString(), 'from the global endpoint');
  assert.equal(recorded.length, 1);
  assert.equal(recorded[0].method, 'GET');
  assert.equal(recorded[0].url?.split('?')[0], '/mfzwi23gnjvgw.mrap/a/b.txt');
  assert.equal(recorded[0].host, new URL(globalEndpoint).host);
  assert.match(recorded[0].authorization ?? '', /^AWS4-HMAC-SHA256 /);
  assert.equal(http.sent.length, 1, 'no regional endpoint was tried');
  s3.destroy();
});

test("an '<alias>.mrap' bucket goes there too, even with '@region', and is never cached", async () => {
  recorded.length = 0;
  const http = new CountingHandler();
  const s3 = client(http);
  await s3.send(new PutObjectCommand({ Bucket: 'mfzwi23gnjvgw.mrap', Key: 'k', Body: 'v', '@region': 'eu-west-1' } as { Bucket: string; Key: string; Body: string }));
  assert.equal(recorded.length, 1);
  assert.equal(recorded[0].method, 'PUT');
  assert.equal(recorded[0].url?.split('?')[0], '/mfzwi23gnjvgw.mrap/k');
  assert.equal(await s3.regionCache.get('mfzwi23gnjvgw.mrap'), undefined);
  s3.destroy();
});
