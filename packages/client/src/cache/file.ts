/**
 * A bucket-region cache shared by every process on a host, as plain files: one small JSON file
 * per bucket in one directory, no native modules.
 *
 * Invariants that make it safe under concurrent writers from many processes:
 * - An entry is only ever replaced whole: written to a temp file in the same directory, then
 *   `rename`d over the entry's name. Rename is atomic on POSIX, so a reader sees the old entry
 *   or the new one, never a torn one, and of two racing writers the last rename wins.
 * - One file per bucket means no read-modify-write of shared state: writers of different
 *   buckets never touch the same file, so no entry is lost to another bucket's update.
 * - Readers never delete. An expired entry is just a miss; only pruning removes files, so a read
 *   cannot delete an entry that another process has just refreshed.
 * - Size is bounded by pruning: every `pruneEvery` sets, a process lists the directory and, when
 *   there are more than `maxEntries` entries, removes expired ones and then the oldest written.
 *   Between prunes the directory may exceed the bound by at most the sets made since.
 * - Anything unreadable (a crash mid-write on a filesystem without atomic rename, a stray file)
 *   is a miss, never an error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BucketRegionCache } from './types.ts';

export interface FileRegionCacheOptions {
  /** The directory holding the entries; default `<os.tmpdir()>/meridian-region-cache-<uid>`. */
  dir?: string;
  /** TTL of an entry set without one, in seconds; default 3600. */
  defaultTtlSeconds?: number;
  /** The most entries kept (approximately; see pruning above); default 10,000. */
  maxEntries?: number;
}

interface Entry {
  bucket: string;
  region: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

const ENTRY_SUFFIX = '.json';
const TEMP_SUFFIX = '.tmp';
/** A temp file older than this belongs to a writer that died before its rename. */
const STALE_TEMP_MS = 60_000;
/** Bucket names that can be file names as they are (S3's rules, minus leading dots). */
const PLAIN_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

/** The default directory: per user, so that two users of a host never share (or fight over) it. */
export function defaultFileRegionCacheDir(): string {
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return join(tmpdir(), `meridian-region-cache-${uid}`);
}

/**
 * A `BucketRegionCache` on the local filesystem, shared by every process that uses the same
 * directory: a region learned by one worker saves every other worker its lookup.
 *
 * @example
 * ```ts
 * import { FileRegionCache } from '@meridian/client';
 * const cache = new FileRegionCache({ dir: '/var/cache/myapp/regions', defaultTtlSeconds: 600 });
 * await cache.set('photos', 'eu-west-1');
 * await cache.get('photos'); // 'eu-west-1', in this process and in any other using that dir
 * ```
 */
export class FileRegionCache implements BucketRegionCache {
  readonly dir: string;
  private readonly defaultTtlSeconds: number;
  private readonly maxEntries: number;
  private readonly pruneEvery: number;
  private setsSincePrune: number;
  private ready: Promise<void> | undefined;

  constructor(opts: FileRegionCacheOptions = {}) {
    this.dir = opts.dir ?? defaultFileRegionCacheDir();
    this.defaultTtlSeconds = opts.defaultTtlSeconds ?? 3600;
    this.maxEntries = opts.maxEntries ?? 10_000;
    if (!(this.defaultTtlSeconds > 0)) throw new RangeError('FileRegionCache: defaultTtlSeconds must be positive');
    if (!(this.maxEntries >= 1)) throw new RangeError('FileRegionCache: maxEntries must be at least 1');
    // Listing the directory costs O(entries); doing it every maxEntries/10 sets keeps the
    // amortized cost constant and the overshoot within 10%.
    this.pruneEvery = Math.max(1, Math.floor(this.maxEntries / 10));
    // The first set of a process prunes, so a directory left oversized by a previous run shrinks.
    this.setsSincePrune = this.pruneEvery;
  }

  async get(bucket: string): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(bucket), 'utf8');
    } catch (err) {
      if (isCode(err, 'ENOENT')) return undefined;
      throw err;
    }
    const entry = parseEntry(text);
    if (!entry || entry.bucket !== bucket || entry.expiresAt <= Date.now()) return undefined;
    return entry.region;
  }

  async set(bucket: string, region: string, ttlSeconds?: number): Promise<void> {
    const ttl = ttlSeconds ?? this.defaultTtlSeconds;
    if (!(ttl > 0)) {
      await this.delete(bucket);
      return;
    }
    const entry: Entry = { bucket, region, expiresAt: Date.now() + ttl * 1000 };
    try {
      await this.write(entry);
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
      // The directory was removed under us (a tmp cleaner): make it again, once.
      this.ready = undefined;
      await this.write(entry);
    }
    if (++this.setsSincePrune >= this.pruneEvery) {
      this.setsSincePrune = 0;
      await this.prune();
    }
  }

  async delete(bucket: string): Promise<void> {
    try {
      await unlink(this.pathOf(bucket));
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
    }
  }

  /**
   * Removes stale temp files, then, when over `maxEntries`, expired entries and then the oldest
   * written until the bound holds. Runs on its own every few sets; callable directly too.
   */
  async prune(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (isCode(err, 'ENOENT')) return;
      throw err;
    }
    const now = Date.now();
    const entries: Array<{ name: string; mtimeMs: number }> = [];
    for (const name of names) {
      if (name.endsWith(TEMP_SUFFIX)) {
        const st = await statOrUndefined(join(this.dir, name));
        if (st && now - st.mtimeMs > STALE_TEMP_MS) await unlinkQuietly(join(this.dir, name));
      } else if (name.endsWith(ENTRY_SUFFIX)) {
        entries.push({ name, mtimeMs: 0 });
      }
    }
    if (entries.length <= this.maxEntries) return;

    let excess = entries.length - this.maxEntries;
    const alive: Array<{ name: string; mtimeMs: number }> = [];
    for (const e of entries) {
      const path = join(this.dir, e.name);
      const entry = parseEntry(await readFile(path, 'utf8').catch(() => ''));
      if (excess > 0 && (!entry || entry.expiresAt <= now)) {
        await unlinkQuietly(path);
        excess--;
        continue;
      }
      const st = await statOrUndefined(path);
      if (st) alive.push({ name: e.name, mtimeMs: st.mtimeMs });
    }
    alive.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const e of alive.slice(0, Math.max(0, excess))) await unlinkQuietly(join(this.dir, e.name));
  }

  /** Replaces the entry's file whole: a temp file in the same directory, renamed over it. */
  private async write(entry: Entry): Promise<void> {
    await this.ensureDir();
    const target = this.pathOf(entry.bucket);
    const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    try {
      await writeFile(temp, JSON.stringify(entry), { mode: 0o600 });
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  private ensureDir(): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (err: unknown) => {
        this.ready = undefined;
        throw err;
      },
    );
    return this.ready;
  }

  /** Plain bucket names stay readable; anything else (ARNs, odd input) becomes a hash. */
  private pathOf(bucket: string): string {
    const name = PLAIN_NAME.test(bucket) ? `b-${bucket}` : `h-${createHash('sha256').update(bucket).digest('hex')}`;
    return join(this.dir, name + ENTRY_SUFFIX);
  }
}

function parseEntry(text: string): Entry | undefined {
  try {
    const v = JSON.parse(text) as Partial<Entry> | null;
    if (v && typeof v.bucket === 'string' && typeof v.region === 'string' && typeof v.expiresAt === 'number') {
      return { bucket: v.bucket, region: v.region, expiresAt: v.expiresAt };
    }
  } catch {
    // A partial or foreign file: a miss.
  }
  return undefined;
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

async function statOrUndefined(path: string) {
  return stat(path).catch(() => undefined);
}

async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
