import { createReadStream, mkdirSync } from 'node:fs';
import { open, opendir, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { newBlobId } from '../core/ids.ts';
import type { BlobStore, BlobWriter, ByteRange } from './types.ts';

/**
 * Object bytes as files: `<root>/<first two hex digits of the id>/<id>`. A blob is written
 * under its final, never reused name and fsynced together with its directory entry before
 * the metadata that refers to it is committed. A crash in between leaves an unreferenced
 * file, which the engine's sweeper removes; it can never leave metadata pointing at missing
 * or partial bytes.
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #dirSync = new DirSyncer();

  constructor(root: string) {
    this.#root = root;
    for (let i = 0; i < 256; i++) mkdirSync(join(root, i.toString(16).padStart(2, '0')), { recursive: true });
  }

  #path(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`invalid blob id ${JSON.stringify(id)}`);
    return join(this.#root, id.slice(0, 2), id);
  }

  async create(): Promise<BlobWriter> {
    const id = newBlobId();
    const path = this.#path(id);
    const dir = join(this.#root, id.slice(0, 2));
    const fh = await open(path, 'wx');
    return new FileBlobWriter(id, path, fh, () => this.#dirSync.sync(dir));
  }

  read(id: string, range?: ByteRange): Readable {
    return createReadStream(this.#path(id), {
      start: range?.start,
      end: range?.end,
      highWaterMark: 256 * 1024,
    });
  }

  async delete(id: string): Promise<void> {
    await unlink(this.#path(id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async *list(): AsyncIterable<{ id: string; mtimeMs: number }> {
    for (const shard of await readdir(this.#root)) {
      const dir = await opendir(join(this.#root, shard));
      for await (const entry of dir) {
        if (!entry.isFile()) continue;
        const st = await stat(join(this.#root, shard, entry.name)).catch(() => undefined);
        if (st) yield { id: entry.name, mtimeMs: st.mtimeMs };
      }
    }
  }

  async close(): Promise<void> {
    await this.#dirSync.drain();
  }
}

/**
 * Appends to a blob file without making the producer wait for each write: chunks queue up
 * and go to disk in batches (one writev per batch) while the next ones arrive from the
 * network. `write` only waits when more than `HIGH_WATER` bytes are queued, so memory per
 * upload stays bounded.
 */
class FileBlobWriter implements BlobWriter {
  static readonly HIGH_WATER = 1024 * 1024;
  readonly id: string;
  readonly #path: string;
  readonly #fh: FileHandle;
  readonly #syncDir: () => Promise<void>;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #pump: Promise<void> | undefined;
  #error: unknown;
  #closed = false;

  constructor(id: string, path: string, fh: FileHandle, syncDir: () => Promise<void>) {
    this.id = id;
    this.#path = path;
    this.#fh = fh;
    this.#syncDir = syncDir;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#error) throw this.#error;
    if (chunk.length === 0) return;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#kick();
    while (this.#queued > FileBlobWriter.HIGH_WATER && this.#pump) await this.#pump;
    if (this.#error) throw this.#error;
  }

  /** Starts writing the queue unless a batch is already on its way. */
  #kick(): void {
    if (this.#pump || this.#error || this.#queue.length === 0) return;
    this.#pump = this.#drain()
      .catch((err: unknown) => {
        this.#error = err;
      })
      .finally(() => {
        this.#pump = undefined;
        this.#kick();
      });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      let bytes = 0;
      for (const c of batch) bytes += c.length;
      let written = 0;
      while (written < bytes) {
        const rest = written === 0 ? batch : remaining(batch, written);
        const { bytesWritten } = await this.#fh.writev(rest);
        written += bytesWritten;
      }
      this.#queued -= bytes;
    }
  }

  async commit(): Promise<void> {
    while (this.#pump) await this.#pump;
    if (this.#error) throw this.#error;
    await this.#fh.sync();
    this.#closed = true;
    await this.#fh.close();
    await this.#syncDir();
  }

  async abort(): Promise<void> {
    while (this.#pump) await this.#pump;
    if (!this.#closed) {
      this.#closed = true;
      await this.#fh.close().catch(() => undefined);
    }
    await unlink(this.#path).catch(() => undefined);
  }
}

/** The part of `chunks` after the first `offset` bytes (after a short writev). */
function remaining(chunks: Uint8Array[], offset: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = offset;
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    out.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return out;
}

/**
 * Coalesces directory fsyncs: a caller that asks while a sync of the same directory is in
 * flight waits for the next one, which covers every entry created before it started. Under
 * concurrent PUTs this turns many directory syncs into a few.
 */
class DirSyncer {
  readonly #state = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

  sync(dir: string): Promise<void> {
    const s = this.#state.get(dir);
    if (!s) {
      const running = this.#run(dir);
      this.#state.set(dir, { running });
      return running;
    }
    if (!s.next) {
      s.next = s.running
        .catch(() => undefined)
        .then(() => {
          const st = this.#state.get(dir);
          if (st) {
            st.running = st.next!;
            st.next = undefined;
          }
          return this.#run(dir);
        });
    }
    return s.next;
  }

  async #run(dir: string): Promise<void> {
    try {
      const fh = await open(dir, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } finally {
      const s = this.#state.get(dir);
      if (s && !s.next) this.#state.delete(dir);
    }
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.#state.values()].flatMap((s) => [s.running, s.next]));
  }
}
