import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NULL_VERSION_ID, VERSION_ID_LENGTH, VersionIdGenerator, newBlobId, newHostId, newRequestId } from './ids.ts';

const T = Date.UTC(2025, 5, 1);

describe('VersionIdGenerator', () => {
  it('makes 32-character, URL-safe ids', () => {
    const gen = new VersionIdGenerator();
    assert.equal(VERSION_ID_LENGTH, 32);
    for (let i = 0; i < 200; i++) {
      const id = gen.next(T + i);
      assert.equal(id.length, VERSION_ID_LENGTH);
      assert.match(id, /^[0-9A-Za-z]+$/);
      assert.equal(encodeURIComponent(id), id);
      assert.notEqual(id, NULL_VERSION_ID);
    }
  });

  it('orders ids made in the same millisecond by creation', () => {
    const gen = new VersionIdGenerator();
    const ids = Array.from({ length: 5000 }, () => gen.next(T));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('orders ids by time, whatever the sequence reached in an earlier millisecond', () => {
    const gen = new VersionIdGenerator();
    let last = '';
    for (let i = 0; i < 3000; i++) last = gen.next(T);
    const next = new VersionIdGenerator().next(T + 1);
    assert.ok(next > last, 'an id from a later millisecond sorts after every id of an earlier one');
  });

  it('keeps ids increasing when the clock goes backwards', () => {
    const gen = new VersionIdGenerator();
    const a = gen.next(T);
    const b = gen.next(T - 5000);
    const c = gen.next(T - 1);
    assert.ok(a < b && b < c);
  });

  it('property: any sequence of clock readings yields strictly increasing, unique ids', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 45 }), { minLength: 1, maxLength: 200 }), (times) => {
        const gen = new VersionIdGenerator();
        const ids = times.map((t) => gen.next(t));
        return ids.every((id, i) => i === 0 || ids[i - 1] < id);
      }),
    );
  });

  it('property: ids of different generators sort by their milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 1, max: 10 ** 9 }), (t, dt) => {
        return new VersionIdGenerator().next(t) < new VersionIdGenerator().next(t + dt);
      }),
    );
  });

  it('two generators in the same millisecond do not collide', () => {
    const a = new VersionIdGenerator();
    const b = new VersionIdGenerator();
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      ids.add(a.next(T));
      ids.add(b.next(T));
    }
    assert.equal(ids.size, 2000);
  });
});

describe('other ids', () => {
  it('blob ids are 32 lower-case hex digits and unique', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newBlobId()));
    assert.equal(ids.size, 2000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  });

  it('request ids look like AWS request ids', () => {
    for (let i = 0; i < 100; i++) assert.match(newRequestId(), /^[0-9A-F]{16}$/);
    assert.notEqual(newRequestId(), newRequestId());
  });

  it('host ids are base64', () => {
    const id = newHostId();
    assert.match(id, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(Buffer.from(id, 'base64').length, 24);
  });
});
