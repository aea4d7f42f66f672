import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobView } from '../replication/job-runner.ts';
import { progressLine } from './replicate-existing.ts';

function job(progress: Partial<JobView['progress']>, status: JobView['status'] = 'Active'): JobView {
  return {
    id: 'j',
    region: 'us-east-1',
    bucket: 'b',
    account: '111122223333',
    filter: {},
    status,
    priority: 0,
    confirmationRequired: false,
    createdAt: 0,
    activeSeconds: 0,
    scanned: false,
    progress: { queued: 0, queuedBytes: 0, succeeded: 0, failed: 0, bytesDone: 0, scanned: 0, ...progress },
  };
}

describe('the replicate-existing progress bar', () => {
  test('objects and bytes done of the total, rate, ETA, status', () => {
    const line = progressLine(
      job({ total: 1000, totalBytes: 10 * 1024 * 1024, succeeded: 240, failed: 10, bytesDone: 2.5 * 1024 * 1024 }),
      10_000,
    );
    assert.equal(
      line,
      '[######------------------]  25% 250/1,000 objects  2.5 MiB/10.0 MiB  25 obj/s  ETA 30.0 s  Active  10 failed',
    );
  });

  test('before the manifest is counted: no total, no ETA', () => {
    assert.equal(
      progressLine(job({}, 'Preparing'), 500),
      '[------------------------]   0% 0/? objects  0 B/?  0 obj/s  ETA -  Preparing',
    );
  });

  test('done: a full bar, no ETA', () => {
    const line = progressLine(job({ total: 3, totalBytes: 3000, succeeded: 3, bytesDone: 3000 }, 'Complete'), 61_000);
    assert.equal(line, '[########################] 100% 3/3 objects  2.9 KiB/2.9 KiB  0 obj/s  ETA -  Complete');
  });
});
