import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { BodyNotReplayableError, replayableBody } from './body-replay.ts';

test('strings, Buffers and Uint8Arrays replay as they are', async () => {
  for (const body of ['text', Buffer.from('buf'), new Uint8Array([1, 2]), undefined]) {
    const r = replayableBody(body, 1);
    assert.equal(r.body, body);
    assert.equal(await r.replay(null), body);
  }
});

test('a stream fully sent is replayed from its recording', async () => {
  const r = replayableBody(Readable.from([Buffer.from('hello '), Buffer.from('world')]), 100);
  assert.equal(await text(r.body as Readable), 'hello world');
  assert.equal(((await r.replay(null)) as Buffer).toString(), 'hello world');
});

test('a stream never read is read in full at replay time (within the bound)', async () => {
  const r = replayableBody(Readable.from(['a', 'b', 'c']), 100);
  assert.equal(((await r.replay(null)) as Buffer).toString(), 'abc');
});

test('a stream past the bound is refused, whether sent or not', async () => {
  const sent = replayableBody(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), 100);
  assert.equal((await text(sent.body as Readable)).length, 120, 'the first attempt still gets every byte');
  await assert.rejects(sent.replay('cause'), (e: Error) => e instanceof BodyNotReplayableError && e.cause === 'cause');
  const unsent = replayableBody(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), 100);
  await assert.rejects(unsent.replay(null), BodyNotReplayableError);
});

test('a file stream is replayed by reopening the file, whatever its size', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'replay-'));
  try {
    const path = join(dir, 'f');
    await writeFile(path, 'x'.repeat(1000));
    const r = replayableBody(createReadStream(path), 10);
    const again = (await r.replay(null)) as Readable;
    assert.equal((await text(again)).length, 1000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a web stream cannot be replayed: a clear error', async () => {
  const r = replayableBody(new ReadableStream(), 100);
  await assert.rejects(r.replay(null), (e: Error) => e instanceof BodyNotReplayableError && /'@region'/.test(e.message));
});
