import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutboxEntry, ReplicationOperation } from '../storage/types.ts';
import { RTC_THRESHOLD_MS, ReplicationMetrics, type SeriesSnapshot } from './metrics.ts';

const T0 = 1_700_000_000_000;

let seq = 0;
function entry(patch: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    seq: ++seq,
    destination: 'dst',
    bucket: 'src',
    key: 'k',
    versionId: 'v',
    operation: 'object',
    ruleId: 'rule',
    enqueuedAt: T0,
    size: 100,
    ...patch,
  };
}

/** Metrics on a clock the test moves. */
function clocked(opts: { rtcThresholdMs?: number } = {}) {
  const clock = { t: T0 };
  const metrics = new ReplicationMetrics({ ...opts, now: () => clock.t });
  return { clock, metrics };
}

function only(snapshots: SeriesSnapshot[]): SeriesSnapshot {
  assert.equal(snapshots.length, 1, JSON.stringify(snapshots));
  return snapshots[0];
}

describe('ReplicationMetrics', () => {
  it('starts with no series', () => {
    assert.deepEqual(new ReplicationMetrics().snapshot([]), []);
  });

  it('counts completed and failed operations per series', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + 10;
    metrics.finished(entry(), true);
    metrics.finished(entry(), true);
    metrics.finished(entry(), false);
    const s = only(metrics.snapshot([]));
    assert.deepEqual(
      { bucket: s.bucket, ruleId: s.ruleId, destination: s.destination },
      { bucket: 'src', ruleId: 'rule', destination: 'dst' },
    );
    assert.equal(s.operationsCompleted, 2);
    assert.equal(s.operationsFailed, 1);
    assert.equal(s.operationsPending, 0);
    assert.equal(s.bytesPending, 0);
  });

  it('a failure adds no latency sample and no RTC outcome', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + RTC_THRESHOLD_MS * 2;
    metrics.finished(entry(), false);
    const s = only(metrics.snapshot([]));
    assert.deepEqual(s.latencyMs, { now: 0, p50: undefined, p99: undefined, max: undefined });
    assert.deepEqual(s.rtc, { thresholdMs: RTC_THRESHOLD_MS, within: 0, missed: 0, share: undefined });
  });

  it('measures latency from enqueue to completion with the injected clock: p50, p99 and max', () => {
    const { clock, metrics } = clocked();
    // Deliberately out of order, and such that text order would differ from numeric order.
    for (const ms of [100, 5, 40, 9]) {
      clock.t = T0 + ms;
      metrics.finished(entry(), true);
    }
    const s = only(metrics.snapshot([]));
    assert.equal(s.latencyMs.p50, 9);
    assert.equal(s.latencyMs.p99, 100);
    assert.equal(s.latencyMs.max, 100);
    assert.equal(s.latencyMs.now, 0, 'nothing pending');
  });

  it('percentiles over 1..100 ms are the nearest-rank values', () => {
    const { clock, metrics } = clocked();
    for (let ms = 100; ms >= 1; ms--) {
      clock.t = T0 + ms;
      metrics.finished(entry(), true);
    }
    const s = only(metrics.snapshot([]));
    assert.equal(s.latencyMs.p50, 50);
    assert.equal(s.latencyMs.p99, 99);
    assert.equal(s.latencyMs.max, 100);
  });

  it('a single sample is every percentile', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + 1234;
    metrics.finished(entry(), true);
    assert.deepEqual(only(metrics.snapshot([])).latencyMs, { now: 0, p50: 1234, p99: 1234, max: 1234 });
  });

  it('a completion timestamped before its enqueue counts as 0 ms, not negative', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 - 5000;
    metrics.finished(entry(), true);
    const s = only(metrics.snapshot([]));
    assert.equal(s.latencyMs.p50, 0);
    assert.equal(s.latencyMs.max, 0);
    assert.equal(s.rtc.within, 1);
  });

  it('percentiles follow the most recent samples; max is the maximum ever seen', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + 60_000;
    for (let i = 0; i < 4096; i++) metrics.finished(entry(), true);
    clock.t = T0 + 7;
    for (let i = 0; i < 4096; i++) metrics.finished(entry(), true);
    const s = only(metrics.snapshot([]));
    assert.equal(s.latencyMs.p50, 7);
    assert.equal(s.latencyMs.p99, 7);
    assert.equal(s.latencyMs.max, 60_000);
    assert.equal(s.operationsCompleted, 8192);
  });

  it('RTC: objects within the threshold (inclusive) and after it; the share of those within', () => {
    const { clock, metrics } = clocked({ rtcThresholdMs: 1000 });
    for (const ms of [0, 999, 1000, 1001, 50_000]) {
      clock.t = T0 + ms;
      metrics.finished(entry(), true);
    }
    const s = only(metrics.snapshot([]));
    assert.deepEqual(s.rtc, { thresholdMs: 1000, within: 3, missed: 2, share: 3 / 5 });
  });

  it('RTC counts only object operations; delete markers and metadata changes still count as completed', () => {
    const { clock, metrics } = clocked({ rtcThresholdMs: 1000 });
    clock.t = T0 + 5000;
    for (const operation of ['delete-marker', 'metadata'] as ReplicationOperation[])
      metrics.finished(entry({ operation }), true);
    let s = only(metrics.snapshot([]));
    assert.equal(s.operationsCompleted, 2);
    assert.deepEqual(s.rtc, { thresholdMs: 1000, within: 0, missed: 0, share: undefined });
    metrics.finished(entry({ operation: 'object' }), true);
    s = only(metrics.snapshot([]));
    assert.deepEqual(s.rtc, { thresholdMs: 1000, within: 0, missed: 1, share: 0 });
  });

  it('RTC defaults to the 15-minute threshold', () => {
    assert.equal(RTC_THRESHOLD_MS, 15 * 60 * 1000);
    const { clock, metrics } = clocked();
    clock.t = T0 + RTC_THRESHOLD_MS;
    metrics.finished(entry(), true);
    clock.t = T0 + RTC_THRESHOLD_MS + 1;
    metrics.finished(entry(), true);
    const s = only(metrics.snapshot([]));
    assert.deepEqual(s.rtc, { thresholdMs: RTC_THRESHOLD_MS, within: 1, missed: 1, share: 0.5 });
  });

  it('snapshot takes pending operations, bytes and the age of the oldest from the entries given', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + 10_000;
    const pending = [
      entry({ enqueuedAt: T0 + 4000, size: 10 }),
      entry({ enqueuedAt: T0 + 1000, size: 20 }),
      entry({ enqueuedAt: T0 + 9000, size: 0, operation: 'delete-marker' }),
    ];
    const s = only(metrics.snapshot(pending));
    assert.equal(s.operationsPending, 3);
    assert.equal(s.bytesPending, 30);
    assert.equal(s.latencyMs.now, 9000);
    assert.equal(s.operationsCompleted, 0);
    assert.equal(s.latencyMs.max, undefined);
  });

  it('accepts any iterable of pending entries (a generator, read once)', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + 50;
    function* queue() {
      yield entry({ size: 1 });
      yield entry({ size: 2 });
    }
    const s = only(metrics.snapshot(queue()));
    assert.equal(s.operationsPending, 2);
    assert.equal(s.bytesPending, 3);
    assert.equal(s.latencyMs.now, 50);
  });

  it('pending figures do not carry over: each snapshot counts only the entries it is given', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + 100;
    only(metrics.snapshot([entry({ size: 5 }), entry({ size: 7 })]));
    const again = only(metrics.snapshot([entry({ size: 5 })]));
    assert.equal(again.operationsPending, 1);
    assert.equal(again.bytesPending, 5);
    const drained = only(metrics.snapshot([]));
    assert.equal(drained.operationsPending, 0);
    assert.equal(drained.bytesPending, 0);
    assert.equal(drained.latencyMs.now, 0);
  });

  it('the age of the oldest is taken afresh: a newer queue shows a smaller lag', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + 10_000;
    assert.equal(only(metrics.snapshot([entry({ enqueuedAt: T0 })])).latencyMs.now, 10_000);
    assert.equal(only(metrics.snapshot([entry({ enqueuedAt: T0 + 9_000 })])).latencyMs.now, 1_000);
  });

  it('a pending entry enqueued in the future shows 0 lag', () => {
    const { metrics } = clocked();
    assert.equal(only(metrics.snapshot([entry({ enqueuedAt: T0 + 60_000 })])).latencyMs.now, 0);
  });

  it('keeps one series per (bucket, rule, destination)', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + 1;
    metrics.finished(entry({ bucket: 'a', ruleId: 'r1', destination: 'x' }), true);
    metrics.finished(entry({ bucket: 'a', ruleId: 'r1', destination: 'y' }), true);
    metrics.finished(entry({ bucket: 'a', ruleId: 'r2', destination: 'x' }), false);
    metrics.finished(entry({ bucket: 'b', ruleId: 'r1', destination: 'x' }), true);
    const pending = [entry({ bucket: 'a', ruleId: 'r1', destination: 'y', size: 9 })];
    const got = metrics
      .snapshot(pending)
      .map((s) => [s.bucket, s.ruleId, s.destination, s.operationsCompleted, s.operationsFailed, s.operationsPending]);
    assert.deepEqual(got, [
      ['a', 'r1', 'x', 1, 0, 0],
      ['a', 'r1', 'y', 1, 0, 1],
      ['a', 'r2', 'x', 0, 1, 0],
      ['b', 'r1', 'x', 1, 0, 0],
    ]);
  });

  it('a series seen only in the queue is reported, and remains (with nothing pending) afterwards', () => {
    const { metrics } = clocked();
    const s = only(metrics.snapshot([entry({ bucket: 'q', ruleId: 'r', destination: 'd', size: 3 })]));
    assert.deepEqual([s.bucket, s.operationsPending, s.bytesPending], ['q', 1, 3]);
    const later = only(metrics.snapshot([]));
    assert.deepEqual([later.bucket, later.operationsPending, later.bytesPending], ['q', 0, 0]);
  });

  it('filters by bucket without disturbing the other buckets', () => {
    const { clock, metrics } = clocked();
    clock.t = T0 + 1;
    metrics.finished(entry({ bucket: 'a' }), true);
    metrics.finished(entry({ bucket: 'b' }), true);
    metrics.finished(entry({ bucket: 'ab' }), true);
    const pending = [entry({ bucket: 'a', size: 4 }), entry({ bucket: 'b', size: 8 })];
    const a = metrics.snapshot(pending, { bucket: 'a' });
    assert.deepEqual(
      a.map((s) => [s.bucket, s.operationsPending, s.bytesPending]),
      [['a', 1, 4]],
    );
    assert.deepEqual(metrics.snapshot([], { bucket: 'missing' }), []);
    const b = only(metrics.snapshot(pending, { bucket: 'b' }));
    assert.deepEqual([b.bucket, b.operationsPending, b.bytesPending, b.operationsCompleted], ['b', 1, 8, 1]);
    assert.deepEqual(
      metrics.snapshot([]).map((s) => s.bucket),
      ['a', 'ab', 'b'],
    );
  });

  it('sorts by bucket, then rule, then destination, component by component', () => {
    const { metrics } = clocked();
    const ids: [string, string, string][] = [
      ['b', 'r', 'd'],
      ['a-b', 'r', 'd'],
      ['a', 'rule-2', 'd'],
      ['a', 'rule', 'z'],
      ['a', 'rule', 'd2'],
      ['a', 'rule', 'd'],
    ];
    for (const [bucket, ruleId, destination] of ids) metrics.finished(entry({ bucket, ruleId, destination }), false);
    assert.deepEqual(
      metrics.snapshot([]).map((s) => [s.bucket, s.ruleId, s.destination]),
      [
        ['a', 'rule', 'd'],
        ['a', 'rule', 'd2'],
        ['a', 'rule', 'z'],
        ['a', 'rule-2', 'd'],
        ['a-b', 'r', 'd'],
        ['b', 'r', 'd'],
      ],
    );
  });

  it('uses Date.now without an injected clock', () => {
    const metrics = new ReplicationMetrics();
    const before = Date.now();
    const s = only(metrics.snapshot([entry({ enqueuedAt: before - 1000 })]));
    assert.ok(s.latencyMs.now >= 1000 && s.latencyMs.now < 60_000, String(s.latencyMs.now));
  });
});
