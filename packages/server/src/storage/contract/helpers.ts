import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { S3Error, type S3ErrorCode } from '../../core/errors.ts';

/** A fresh directory under the OS temp dir and a function that removes it. */
export async function tempDir(label: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `meridian-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function collect(body: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** S3's key order: UTF-8 bytes. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** An `assert.throws`/`rejects` validator for an S3Error with this code (and these response headers). */
export function s3Error(code: S3ErrorCode, headers?: Record<string, string>): (err: unknown) => boolean {
  return (err) => {
    if (!(err instanceof S3Error)) throw new Error(`expected S3Error ${code}, got ${String(err)}`);
    if (err.code !== code) throw new Error(`expected S3Error ${code}, got ${err.code}`);
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (err.headers[name] !== value) {
        throw new Error(`expected header ${name}: ${value}, got ${String(err.headers[name])}`);
      }
    }
    return true;
  };
}

/** Splits `data` into chunks at pseudo-random points (deterministic per seed), including empty chunks. */
export function chunksOf(data: Buffer, seed: number): Buffer[] {
  const out: Buffer[] = [];
  let state = seed >>> 0 || 1;
  let off = 0;
  while (off < data.length) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const n = state % 5 === 0 ? 0 : 1 + (state % 700);
    out.push(data.subarray(off, off + n));
    off += n;
  }
  return out;
}
