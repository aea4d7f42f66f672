import { setTimeout as delay } from 'node:timers/promises';

/**
 * Retries `check` until it returns without throwing, every `intervalMs` (25 ms), and returns
 * its result. After `timeoutMs` (10 s) the last error is thrown, its message prefixed with
 * how long we waited, so a failing assertion still says what was wrong. For asynchronous
 * effects (replication); a fixed sleep would be both slow and flaky.
 *
 * @example
 *   const head = await eventually(async () => {
 *     const h = await s3.send(new HeadObjectCommand({ Bucket, Key }));
 *     assert.equal(h.ReplicationStatus, 'COMPLETED');
 *     return h;
 *   });
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 25 } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= deadline) {
        if (err instanceof Error) {
          err.message = `still failing after ${timeoutMs} ms: ${err.message}`;
          throw err;
        }
        throw new Error(`still failing after ${timeoutMs} ms: ${String(err)}`, { cause: err });
      }
    }
    await delay(intervalMs);
  }
}
