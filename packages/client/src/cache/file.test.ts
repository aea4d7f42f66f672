import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { regionCacheContract } from './contract.ts';
import { defaultFileRegionCacheDir, FileRegionCache } from './file.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MODULE = pathToFileURL(fileURLToPath(new URL('./file.ts', import.meta.url))).href;

let parent: string;
before(async () => {
  parent = await mkdtemp(join(tmpdir(), 'meridian-file-cache-'));
});
after(() => rm(parent, { recursive: true, force: true }));

let n = 0;
const freshDir = () => join(parent, `cache-${++n}`);

regionCacheContract('FileRegionCache', () => new FileRegionCache({ dir: freshDir() }));

/** Runs ESM code in another Node process, with `FileRegionCache` in scope; resolves its stdout. */
async function inChild(code: string, env: Record<string, string> = {}): Promise<string> {
  const script = `import { FileRegionCache } from ${JSON.stringify(MODULE)};\n${code}`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
  );
  return stdout;
}

describe('FileRegionCache', { concurrency: true }, () => {
  test('by default it lives in a per-user directory under the OS temp dir', () => {
    const cache = new FileRegionCache();
    assert.equal(cache.dir, defaultFileRegionCacheDir());
    assert.ok(cache.dir.startsWith(tmpdir()), cache.dir);
  });

  test('an entry written by another process is read by this one, and the other way round', async () => {
    const dir = freshDir();
    await inChild(`await new FileRegionCache({ dir: process.env.DIR }).set('from-child', 'ap-southeast-1');`, {
      DIR: dir,
    });
    const cache = new FileRegionCache({ dir });
    assert.equal(await cache.get('from-child'), 'ap-southeast-1');

    await cache.set('from-parent', 'eu-west-1');
    const seen = await inChild(`console.log(await new FileRegionCache({ dir: process.env.DIR }).get('from-parent'));`, {
      DIR: dir,
    });
    assert.equal(seen.trim(), 'eu-west-1');
  });

  test(
    'several processes writing and reading the same buckets at once never see or leave a torn entry',
    { timeout: 60_000 },
    async () => {
      const dir = freshDir();
      const writers = 4;
      // Each process sets 10 shared buckets to its own region, over and over, reading as it goes;
      // it prints what it read that was not a whole region somebody wrote (after the first round,
      // every bucket exists, so a miss is a torn read too).
      const code = `
      const cache = new FileRegionCache({ dir: process.env.DIR, maxEntries: 1000 });
      const me = 'region-' + process.env.WRITER;
      const bad = [];
      for (let round = 0; round < 40; round++) {
        await Promise.all(Array.from({ length: 10 }, async (_, i) => {
          await cache.set('shared-' + i, me);
          const got = await cache.get('shared-' + ((i + round) % 10));
          const whole = got !== undefined && /^region-[0-9]+$/.test(got);
          if (round > 0 ? !whole : got !== undefined && !whole) bad.push(String(got));
        }));
      }
      console.log(JSON.stringify(bad));
    `;
      const outputs = await Promise.all(
        Array.from({ length: writers }, (_, w) => inChild(code, { DIR: dir, WRITER: String(w) })),
      );
      for (const out of outputs) assert.deepEqual(JSON.parse(out), [], 'no process read a torn or foreign value');

      const names = await readdir(dir);
      assert.deepEqual(
        names.filter((f) => f.endsWith('.tmp')),
        [],
        'no temp file is left behind',
      );
      assert.equal(names.length, 10, names.join(', '));
      const cache = new FileRegionCache({ dir });
      for (let i = 0; i < 10; i++) {
        const region = await cache.get(`shared-${i}`);
        assert.match(region ?? '', /^region-[0-3]$/, `shared-${i} holds one writer's whole value`);
        const file = JSON.parse(await readFile(join(dir, `b-shared-${i}.json`), 'utf8')) as { region: string };
        assert.equal(file.region, region);
      }
    },
  );

  test('the directory stays within maxEntries, keeping the most recently written', async () => {
    const dir = freshDir();
    const cache = new FileRegionCache({ dir, maxEntries: 10 });
    for (let i = 0; i < 50; i++) {
      await cache.set(`b-${i}`, 'eu-west-1');
      if (i % 5 === 0) await sleep(5); // distinct mtimes, so "oldest" is well defined
    }
    const names = await readdir(dir);
    assert.ok(names.length <= 10, `${names.length} entries`);
    assert.equal(await cache.get('b-49'), 'eu-west-1');
    assert.equal(await cache.get('b-0'), undefined);
  });

  test('pruning drops expired entries before live ones, even older live ones', async () => {
    const cache = new FileRegionCache({ dir: freshDir(), maxEntries: 3 });
    await cache.set('old-but-alive', 'us-east-1', 60);
    await cache.set('expiring-1', 'us-east-1', 0.05);
    await cache.set('expiring-2', 'us-east-1', 0.05);
    await sleep(100);
    await cache.set('new-1', 'eu-west-1');
    await cache.set('new-2', 'eu-west-1');
    assert.equal(await cache.get('old-but-alive'), 'us-east-1');
    assert.equal(await cache.get('new-1'), 'eu-west-1');
    assert.equal(await cache.get('new-2'), 'eu-west-1');
    assert.equal((await readdir(cache.dir)).length, 3);
  });

  test('a damaged or foreign file is a miss, and the next set repairs it', async () => {
    const cache = new FileRegionCache({ dir: freshDir() });
    await cache.set('damaged', 'eu-west-1');
    const path = join(cache.dir, 'b-damaged.json');
    await writeFile(path, '{"bucket":"damaged","reg');
    assert.equal(await cache.get('damaged'), undefined);
    await writeFile(
      path,
      JSON.stringify({ bucket: 'someone-else', region: 'us-east-1', expiresAt: Date.now() + 60_000 }),
    );
    assert.equal(await cache.get('damaged'), undefined, 'an entry for another bucket is not this one');
    await cache.set('damaged', 'ap-southeast-1');
    assert.equal(await cache.get('damaged'), 'ap-southeast-1');
  });

  test('temp files of writers that died before their rename are cleaned up', async () => {
    const cache = new FileRegionCache({ dir: freshDir(), maxEntries: 10 });
    await cache.set('first', 'eu-west-1');
    const stale = join(cache.dir, 'b-crashed.json.999.abcdef.tmp');
    const fresh = join(cache.dir, 'b-writing.json.998.abcdef.tmp');
    await writeFile(stale, '{');
    await writeFile(fresh, '{');
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await utimes(stale, longAgo, longAgo);
    await cache.prune();
    const names = await readdir(cache.dir);
    assert.ok(!names.includes('b-crashed.json.999.abcdef.tmp'), 'a stale temp file is removed');
    assert.ok(names.includes('b-writing.json.998.abcdef.tmp'), 'a temp file being written is left alone');
  });

  test('a directory removed under a running cache is made again by the next set', async () => {
    const cache = new FileRegionCache({ dir: freshDir() });
    await cache.set('before', 'eu-west-1');
    await rm(cache.dir, { recursive: true });
    assert.equal(await cache.get('before'), undefined);
    await cache.set('after', 'us-east-1');
    assert.equal(await cache.get('after'), 'us-east-1');
  });

  test('a TTL of zero or less stores nothing', async () => {
    const cache = new FileRegionCache({ dir: freshDir() });
    await cache.set('zero', 'eu-west-1');
    await cache.set('zero', 'eu-west-1', 0);
    assert.equal(await cache.get('zero'), undefined);
  });
});
