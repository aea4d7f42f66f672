import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadGovernor } from './replicator.ts';

test('replication steps aside while clients keep requests in flight, and not otherwise', async () => {
  let load = 16;
  const busy = new LoadGovernor(() => load);
  const idle = new LoadGovernor(() => 0);
  const some = new LoadGovernor(() => 5);
  try {
    // The load is smoothed over about a second: a burst does not count at once.
    assert.equal(busy.limit(16), 16);
    await sleep(1200);
    assert.equal(busy.limit(16), 1);
    assert.equal(some.limit(16), 2);
    assert.equal(idle.limit(16), 16);
    assert.equal(busy.limit(1), 1, 'never above what is configured');
    load = 0;
    await sleep(1500);
    assert.equal(busy.limit(16), 16, 'full concurrency once the clients are gone');
  } finally {
    busy.close();
    idle.close();
    some.close();
  }
});
