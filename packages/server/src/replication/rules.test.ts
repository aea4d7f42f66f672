import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type {
  ReplicationConfiguration,
  ReplicationFilter,
  ReplicationOperation,
  ReplicationRule,
  Tag,
} from '../storage/types.ts';
import { isV2, planReplication, ruleMatches, type ReplicationSubject, type ReplicationTarget } from './rules.ts';

const ROLE = 'arn:aws:iam::111122223333:role/replication';

function destination(bucket: string, storageClass?: string): ReplicationRule['destination'] {
  return { bucket, arn: `arn:aws:s3:::${bucket}`, ...(storageClass ? { storageClass } : {}) };
}

/** A V1 rule: rule-level prefix, no priority, no filter. */
function v1(id: string, dst: string, patch: Partial<ReplicationRule> = {}): ReplicationRule {
  return { id, status: 'Enabled', prefix: '', destination: destination(dst), ...patch };
}

/** A V2 rule: a filter, a priority and DeleteMarkerReplication. */
function v2(
  id: string,
  dst: string,
  priority: number,
  filter: ReplicationFilter = { kind: 'all' },
  patch: Partial<ReplicationRule> = {},
): ReplicationRule {
  return {
    id,
    status: 'Enabled',
    priority,
    filter,
    deleteMarkerReplication: 'Disabled',
    destination: destination(dst),
    ...patch,
  };
}

function config(...rules: ReplicationRule[]): ReplicationConfiguration {
  return { role: ROLE, rules };
}

function subject(key: string, patch: Partial<ReplicationSubject> = {}): ReplicationSubject {
  return { key, storageClass: 'STANDARD', ...patch };
}

const tag = (key: string, value: string): Tag => ({ key, value });

/** The plan as `destination -> ruleId`, sorted, for order-free comparison. */
function plan(c: ReplicationConfiguration, s: ReplicationSubject, op: ReplicationOperation = 'object'): string[] {
  return planReplication(c, s, op)
    .map((t) => `${t.destination}:${t.ruleId}`)
    .sort();
}

describe('isV2', () => {
  it('is V2 as soon as any rule has a Filter, V1 otherwise', () => {
    assert.equal(isV2(config()), false);
    assert.equal(isV2(config(v1('a', 'd'), v1('b', 'd', { prefix: 'logs/' }))), false);
    assert.equal(isV2(config(v2('a', 'd', 1))), true);
    assert.equal(isV2(config(v1('a', 'd'), v2('b', 'd', 2, { kind: 'prefix', prefix: '' }))), true);
  });
});

describe('ruleMatches', () => {
  it('V1: the rule-level prefix decides; no prefix or an empty one matches every key', () => {
    assert.equal(ruleMatches(v1('r', 'd', { prefix: 'logs/' }), subject('logs/a')), true);
    assert.equal(ruleMatches(v1('r', 'd', { prefix: 'logs/' }), subject('logs')), false);
    assert.equal(ruleMatches(v1('r', 'd', { prefix: 'logs/' }), subject('img/logs/a')), false);
    assert.equal(ruleMatches(v1('r', 'd', { prefix: '' }), subject('anything')), true);
    assert.equal(ruleMatches(v1('r', 'd', { prefix: undefined }), subject('')), true);
  });

  it('V1: tags on the object do not matter', () => {
    const rule = v1('r', 'd', { prefix: 'a' });
    assert.equal(ruleMatches(rule, subject('ab', { tags: [tag('x', '1')] })), true);
    assert.equal(ruleMatches(rule, subject('b', { tags: [tag('x', '1')] })), false);
  });

  it('prefix matching is case-sensitive and by code units, not a glob', () => {
    const rule = v2('r', 'd', 1, { kind: 'prefix', prefix: 'Logs/*' });
    assert.equal(ruleMatches(rule, subject('Logs/*x')), true);
    assert.equal(ruleMatches(rule, subject('Logs/x')), false);
    assert.equal(ruleMatches(rule, subject('logs/*x')), false);
  });

  it('V2 filter all matches every key, with or without tags', () => {
    const rule = v2('r', 'd', 1, { kind: 'all' });
    assert.equal(ruleMatches(rule, subject('')), true);
    assert.equal(ruleMatches(rule, subject('x/y', { tags: [tag('a', 'b')] })), true);
  });

  it('V2 prefix filter', () => {
    const rule = v2('r', 'd', 1, { kind: 'prefix', prefix: 'photos/' });
    assert.equal(ruleMatches(rule, subject('photos/1.jpg')), true);
    assert.equal(ruleMatches(rule, subject('photos/')), true);
    assert.equal(ruleMatches(rule, subject('photos')), false);
    assert.equal(ruleMatches(v2('r', 'd', 1, { kind: 'prefix', prefix: '' }), subject('z')), true);
  });

  it('V2 tag filter: key and value must match exactly; other tags on the object are fine', () => {
    const rule = v2('r', 'd', 1, { kind: 'tag', tag: tag('env', 'prod') });
    assert.equal(ruleMatches(rule, subject('k', { tags: [tag('env', 'prod')] })), true);
    assert.equal(ruleMatches(rule, subject('k', { tags: [tag('team', 'a'), tag('env', 'prod'), tag('x', '')] })), true);
    assert.equal(ruleMatches(rule, subject('k', { tags: [tag('env', 'Prod')] })), false);
    assert.equal(ruleMatches(rule, subject('k', { tags: [tag('Env', 'prod')] })), false);
    assert.equal(ruleMatches(rule, subject('k', { tags: [tag('env', 'prod ')] })), false);
    assert.equal(ruleMatches(rule, subject('k', { tags: [tag('env', 'production')] })), false);
    assert.equal(ruleMatches(rule, subject('k', { tags: [tag('prod', 'env')] })), false);
    assert.equal(ruleMatches(rule, subject('k', { tags: [] })), false);
    assert.equal(ruleMatches(rule, subject('k')), false);
  });

  it('V2 tag filter with an empty value matches only an empty value', () => {
    const rule = v2('r', 'd', 1, { kind: 'tag', tag: tag('flag', '') });
    assert.equal(ruleMatches(rule, subject('k', { tags: [tag('flag', '')] })), true);
    assert.equal(ruleMatches(rule, subject('k', { tags: [tag('flag', 'x')] })), false);
  });

  it('V2 and filter: the prefix and every tag must match', () => {
    const rule = v2('r', 'd', 1, { kind: 'and', prefix: 'docs/', tags: [tag('a', '1'), tag('b', '2')] });
    const both = [tag('b', '2'), tag('a', '1')];
    assert.equal(ruleMatches(rule, subject('docs/x', { tags: both })), true);
    assert.equal(ruleMatches(rule, subject('docs/x', { tags: [...both, tag('c', '3')] })), true);
    assert.equal(ruleMatches(rule, subject('docs/x', { tags: [tag('a', '1')] })), false, 'one tag missing');
    assert.equal(ruleMatches(rule, subject('docs/x', { tags: [tag('a', '1'), tag('b', '3')] })), false, 'wrong value');
    assert.equal(ruleMatches(rule, subject('img/x', { tags: both })), false, 'prefix differs');
    assert.equal(ruleMatches(rule, subject('docs/x')), false, 'no tags');
  });

  it('V2 and filter without a prefix matches on tags alone', () => {
    const rule = v2('r', 'd', 1, { kind: 'and', tags: [tag('a', '1'), tag('b', '2')] });
    assert.equal(ruleMatches(rule, subject('any/key', { tags: [tag('a', '1'), tag('b', '2')] })), true);
    assert.equal(ruleMatches(rule, subject('any/key', { tags: [tag('a', '1')] })), false);
  });

  it('V2 and filter with a prefix and no tags is a prefix filter', () => {
    const rule = v2('r', 'd', 1, { kind: 'and', prefix: 'p/', tags: [] });
    assert.equal(ruleMatches(rule, subject('p/1')), true);
    assert.equal(ruleMatches(rule, subject('q/1')), false);
  });
});

describe('planReplication: V1', () => {
  it('replicates a matching object to the rule destination with its rule id', () => {
    const c = config(v1('logs', 'dst', { prefix: 'logs/' }));
    assert.deepEqual(planReplication(c, subject('logs/1'), 'object'), [
      { destination: 'dst', ruleId: 'logs', storageClass: undefined },
    ]);
    assert.deepEqual(planReplication(c, subject('other'), 'object'), []);
  });

  it('with several rules, each key goes where its rule sends it', () => {
    const c = config(v1('logs', 'dst', { prefix: 'logs/' }), v1('img', 'dst', { prefix: 'img/' }));
    assert.deepEqual(plan(c, subject('logs/a')), ['dst:logs']);
    assert.deepEqual(plan(c, subject('img/a')), ['dst:img']);
    assert.deepEqual(plan(c, subject('doc/a')), []);
  });

  it('only the first matching rule in the document governs its destination, storage class included', () => {
    const c = config(
      v1('first', 'dst', { prefix: 'a', destination: destination('dst', 'STANDARD_IA') }),
      v1('second', 'dst', { prefix: 'ab', destination: destination('dst', 'ONEZONE_IA') }),
    );
    assert.deepEqual(planReplication(c, subject('abc'), 'object'), [
      { destination: 'dst', ruleId: 'first', storageClass: 'STANDARD_IA' },
    ]);
    // Reversed: the more specific rule is now first and governs.
    const reversed = config(c.rules[1], c.rules[0]);
    assert.deepEqual(planReplication(reversed, subject('abc'), 'object'), [
      { destination: 'dst', ruleId: 'second', storageClass: 'ONEZONE_IA' },
    ]);
    // 'ax' matches only the first rule.
    assert.deepEqual(plan(c, subject('ax')), ['dst:first']);
  });

  it('a disabled rule is ignored and the next matching rule governs', () => {
    const c = config(v1('off', 'dst', { prefix: 'a', status: 'Disabled' }), v1('on', 'dst', { prefix: '' }));
    assert.deepEqual(plan(c, subject('a1')), ['dst:on']);
    assert.deepEqual(plan(config(v1('off', 'dst', { status: 'Disabled' })), subject('a1')), []);
  });

  it('always replicates user delete markers of matching keys', () => {
    const c = config(v1('r', 'dst', { prefix: 'logs/' }));
    assert.deepEqual(plan(c, subject('logs/x'), 'delete-marker'), ['dst:r']);
    assert.deepEqual(plan(c, subject('img/x'), 'delete-marker'), []);
    // Even if the rule carries a DeleteMarkerReplication element: it is V2 only.
    const withDmr = config(v1('r', 'dst', { prefix: 'logs/', deleteMarkerReplication: 'Disabled' }));
    assert.deepEqual(plan(withDmr, subject('logs/x'), 'delete-marker'), ['dst:r']);
  });

  it('a disabled V1 rule does not replicate delete markers', () => {
    const c = config(v1('r', 'dst', { status: 'Disabled' }));
    assert.deepEqual(plan(c, subject('k'), 'delete-marker'), []);
  });

  it('metadata changes follow the prefix', () => {
    const c = config(v1('r', 'dst', { prefix: 'logs/' }));
    assert.deepEqual(plan(c, subject('logs/x'), 'metadata'), ['dst:r']);
    assert.deepEqual(plan(c, subject('img/x'), 'metadata'), []);
  });
});

describe('planReplication: V2 filters and priorities', () => {
  it('filters: all, prefix, tag and and', () => {
    const c = config(
      v2('all', 'd-all', 1),
      v2('prefix', 'd-prefix', 2, { kind: 'prefix', prefix: 'p/' }),
      v2('tag', 'd-tag', 3, { kind: 'tag', tag: tag('t', '1') }),
      v2('and', 'd-and', 4, { kind: 'and', prefix: 'p/', tags: [tag('t', '1'), tag('u', '2')] }),
    );
    assert.deepEqual(plan(c, subject('x')), ['d-all:all']);
    assert.deepEqual(plan(c, subject('p/x')), ['d-all:all', 'd-prefix:prefix']);
    assert.deepEqual(plan(c, subject('x', { tags: [tag('t', '1')] })), ['d-all:all', 'd-tag:tag']);
    assert.deepEqual(plan(c, subject('p/x', { tags: [tag('t', '1')] })), ['d-all:all', 'd-prefix:prefix', 'd-tag:tag']);
    assert.deepEqual(plan(c, subject('p/x', { tags: [tag('u', '2'), tag('t', '1'), tag('z', '9')] })), [
      'd-all:all',
      'd-and:and',
      'd-prefix:prefix',
      'd-tag:tag',
    ]);
    assert.deepEqual(plan(c, subject('x', { tags: [tag('u', '2'), tag('t', '1')] })), ['d-all:all', 'd-tag:tag']);
  });

  it('the highest priority matching rule governs a destination, and its storage class applies', () => {
    const low = v2('low', 'dst', 1, { kind: 'all' }, { destination: destination('dst', 'STANDARD_IA') });
    const high = v2(
      'high',
      'dst',
      10,
      { kind: 'prefix', prefix: 'hot/' },
      { destination: destination('dst', 'GLACIER_IR') },
    );
    for (const rules of [
      [low, high],
      [high, low],
    ]) {
      const c = config(...rules);
      assert.deepEqual(planReplication(c, subject('hot/1'), 'object'), [
        { destination: 'dst', ruleId: 'high', storageClass: 'GLACIER_IR' },
      ]);
      // Where the high-priority rule does not match, the lower one governs.
      assert.deepEqual(planReplication(c, subject('cold/1'), 'object'), [
        { destination: 'dst', ruleId: 'low', storageClass: 'STANDARD_IA' },
      ]);
    }
  });

  it('priority 0 and missing priorities rank below positive ones', () => {
    const c = config(v2('zero', 'dst', 0), v2('one', 'dst', 1));
    assert.deepEqual(plan(c, subject('k')), ['dst:one']);
    const unset = config(v2('one', 'dst', 1), { ...v2('unset', 'dst', 0), priority: undefined });
    assert.deepEqual(plan(unset, subject('k')), ['dst:one']);
  });

  it('a disabled high-priority rule does not hide a lower enabled one', () => {
    const c = config(v2('off', 'dst', 9, { kind: 'all' }, { status: 'Disabled' }), v2('on', 'dst', 1));
    assert.deepEqual(plan(c, subject('k')), ['dst:on']);
    assert.deepEqual(plan(config(v2('off', 'dst', 9, { kind: 'all' }, { status: 'Disabled' })), subject('k')), []);
  });

  it('different destinations each get exactly one target, from their own highest-priority rule', () => {
    const c = config(
      v2('a-low', 'a', 1),
      v2('b-high', 'b', 5),
      v2('a-high', 'a', 7),
      v2('b-low', 'b', 2),
      v2('c-only', 'c', 3, { kind: 'prefix', prefix: 'c/' }),
    );
    assert.deepEqual(plan(c, subject('k')), ['a:a-high', 'b:b-high']);
    assert.deepEqual(plan(c, subject('c/k')), ['a:a-high', 'b:b-high', 'c:c-only']);
  });

  it('a tag rule with higher priority governs only objects carrying its tag', () => {
    const c = config(
      v2('general', 'dst', 1, { kind: 'all' }, { destination: destination('dst', 'STANDARD') }),
      v2(
        'tagged',
        'dst',
        2,
        { kind: 'tag', tag: tag('tier', 'cold') },
        { destination: destination('dst', 'DEEP_ARCHIVE') },
      ),
    );
    assert.deepEqual(planReplication(c, subject('k', { tags: [tag('tier', 'cold')] }), 'object'), [
      { destination: 'dst', ruleId: 'tagged', storageClass: 'DEEP_ARCHIVE' },
    ]);
    assert.deepEqual(planReplication(c, subject('k', { tags: [tag('tier', 'hot')] }), 'object'), [
      { destination: 'dst', ruleId: 'general', storageClass: 'STANDARD' },
    ]);
  });

  it('a rule without a storage class leaves it unset (the replica keeps the source class)', () => {
    const [target] = planReplication(
      config(v2('r', 'dst', 1)),
      subject('k', { storageClass: 'STANDARD_IA' }),
      'object',
    );
    assert.equal(target.storageClass, undefined);
  });

  it('metadata changes follow the filter with the tags the version has now', () => {
    const c = config(v2('r', 'dst', 1, { kind: 'tag', tag: tag('sync', 'yes') }));
    assert.deepEqual(plan(c, subject('k', { tags: [tag('sync', 'yes')] }), 'metadata'), ['dst:r']);
    assert.deepEqual(plan(c, subject('k', { tags: [tag('sync', 'no')] }), 'metadata'), []);
    assert.deepEqual(plan(c, subject('k'), 'metadata'), []);
    const byPrefix = config(v2('r', 'dst', 1, { kind: 'prefix', prefix: 'p/' }));
    assert.deepEqual(plan(byPrefix, subject('p/k'), 'metadata'), ['dst:r']);
    assert.deepEqual(plan(byPrefix, subject('q/k'), 'metadata'), []);
  });

  it('an empty configuration plans nothing', () => {
    assert.deepEqual(planReplication(config(), subject('k'), 'object'), []);
    assert.deepEqual(planReplication(config(), subject('k'), 'delete-marker'), []);
  });
});

describe('planReplication: V2 delete markers', () => {
  it('replicates a marker only under DeleteMarkerReplication Enabled', () => {
    assert.deepEqual(plan(config(v2('r', 'dst', 1)), subject('k'), 'delete-marker'), []);
    assert.deepEqual(
      plan(
        config(v2('r', 'dst', 1, { kind: 'all' }, { deleteMarkerReplication: 'Enabled' })),
        subject('k'),
        'delete-marker',
      ),
      ['dst:r'],
    );
    const noElement = config({ ...v2('r', 'dst', 1), deleteMarkerReplication: undefined });
    assert.deepEqual(plan(noElement, subject('k'), 'delete-marker'), []);
  });

  it('a V1-style rule in a V2 document follows the V2 delete-marker rule', () => {
    const c = config(v1('old', 'dst'), v2('new', 'other', 1, { kind: 'prefix', prefix: 'x/' }));
    assert.deepEqual(plan(c, subject('k'), 'delete-marker'), []);
  });

  it('matches a marker on its key only', () => {
    const c = config(v2('r', 'dst', 1, { kind: 'prefix', prefix: 'p/' }, { deleteMarkerReplication: 'Enabled' }));
    assert.deepEqual(plan(c, subject('p/k'), 'delete-marker'), ['dst:r']);
    assert.deepEqual(plan(c, subject('q/k'), 'delete-marker'), []);
    // Tags the caller passes along for a marker do not make a difference.
    assert.deepEqual(plan(c, subject('q/k', { tags: [tag('a', '1')] }), 'delete-marker'), []);
  });

  it('never replicates markers under tag-filtered rules, even if tags are passed', () => {
    const tagRule = v2('t', 'dst', 1, { kind: 'tag', tag: tag('a', '1') }, { deleteMarkerReplication: 'Enabled' });
    const andRule = v2(
      'and',
      'dst2',
      2,
      { kind: 'and', prefix: 'p/', tags: [tag('a', '1')] },
      { deleteMarkerReplication: 'Enabled' },
    );
    const c = config(tagRule, andRule);
    assert.deepEqual(plan(c, subject('p/k', { tags: [tag('a', '1')] }), 'delete-marker'), []);
    assert.deepEqual(plan(c, subject('p/k', { tags: [tag('a', '1')] }), 'object'), ['dst2:and', 'dst:t']);
  });

  it('an and filter with no tags is not a tag filter: markers replicate', () => {
    const c = config(
      v2('r', 'dst', 1, { kind: 'and', prefix: 'p/', tags: [] }, { deleteMarkerReplication: 'Enabled' }),
    );
    assert.deepEqual(plan(c, subject('p/k'), 'delete-marker'), ['dst:r']);
  });

  it('markers of GLACIER and DEEP_ARCHIVE keys are planned (a marker has no storage class of its own)', () => {
    const c = config(v2('r', 'dst', 1, { kind: 'all' }, { deleteMarkerReplication: 'Enabled' }));
    for (const storageClass of ['GLACIER', 'DEEP_ARCHIVE']) {
      assert.deepEqual(plan(c, subject('k', { storageClass }), 'delete-marker'), ['dst:r']);
      assert.deepEqual(plan(config(v1('r', 'dst')), subject('k', { storageClass }), 'delete-marker'), ['dst:r']);
    }
  });

  it('per destination, the highest-priority matching rule decides about markers (spec A.7 step 3)', () => {
    // Both rules match the key; the governing rule (priority 5) has DeleteMarkerReplication
    // Disabled, so the destination does not get the marker, although a lower rule would send it.
    const c = config(
      v2('high', 'dst', 5, { kind: 'prefix', prefix: 'p/' }, { deleteMarkerReplication: 'Disabled' }),
      v2('low', 'dst', 1, { kind: 'all' }, { deleteMarkerReplication: 'Enabled' }),
    );
    assert.deepEqual(plan(c, subject('p/k'), 'object'), ['dst:high']);
    assert.deepEqual(plan(c, subject('q/k'), 'delete-marker'), ['dst:low'], 'only the low rule matches q/k');
    assert.deepEqual(plan(c, subject('p/k'), 'delete-marker'), [], 'the governing rule says no markers');
  });
});

describe('planReplication: replicas and archived objects', () => {
  const c = config(
    v2('plain', 'a', 1),
    v2('sync', 'b', 2, { kind: 'all' }, { replicaModifications: 'Enabled', deleteMarkerReplication: 'Enabled' }),
    v2('nosync', 'c', 3, { kind: 'all' }, { replicaModifications: 'Disabled', deleteMarkerReplication: 'Enabled' }),
  );

  it('does not replicate a replica or its delete marker again', () => {
    assert.deepEqual(plan(c, subject('k', { replica: true }), 'object'), []);
    assert.deepEqual(plan(c, subject('k', { replica: true }), 'delete-marker'), []);
    assert.deepEqual(plan(config(v1('r', 'dst')), subject('k', { replica: true }), 'object'), []);
    assert.deepEqual(plan(config(v1('r', 'dst')), subject('k', { replica: true }), 'delete-marker'), []);
  });

  it('sends metadata changes made on a replica back only under ReplicaModifications Enabled', () => {
    assert.deepEqual(plan(c, subject('k', { replica: true }), 'metadata'), ['b:sync']);
    // A non-replica's metadata goes wherever its rules send it.
    assert.deepEqual(plan(c, subject('k'), 'metadata'), ['a:plain', 'b:sync', 'c:nosync']);
  });

  it('replica metadata still follows the filter of the syncing rule', () => {
    const filtered = config(v2('sync', 'b', 2, { kind: 'prefix', prefix: 'p/' }, { replicaModifications: 'Enabled' }));
    assert.deepEqual(plan(filtered, subject('p/k', { replica: true }), 'metadata'), ['b:sync']);
    assert.deepEqual(plan(filtered, subject('q/k', { replica: true }), 'metadata'), []);
    const disabled = config(
      v2('sync', 'b', 2, { kind: 'all' }, { replicaModifications: 'Enabled', status: 'Disabled' }),
    );
    assert.deepEqual(plan(disabled, subject('k', { replica: true }), 'metadata'), []);
  });

  it('does not replicate GLACIER or DEEP_ARCHIVE objects or their metadata', () => {
    for (const storageClass of ['GLACIER', 'DEEP_ARCHIVE']) {
      assert.deepEqual(plan(c, subject('k', { storageClass }), 'object'), [], storageClass);
      assert.deepEqual(plan(c, subject('k', { storageClass }), 'metadata'), [], storageClass);
    }
    for (const storageClass of [
      'STANDARD',
      'STANDARD_IA',
      'ONEZONE_IA',
      'INTELLIGENT_TIERING',
      'GLACIER_IR',
      'REDUCED_REDUNDANCY',
    ]) {
      assert.deepEqual(
        plan(c, subject('k', { storageClass }), 'object'),
        ['a:plain', 'b:sync', 'c:nosync'],
        storageClass,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Properties.

const DESTINATIONS = ['d1', 'd2', 'd3'];
const KEYS = ['', 'a', 'a/', 'a/b', 'ab', 'b/c', 'logs/x'];
const PREFIXES = ['', 'a', 'a/', 'b', 'logs/'];
const TAGS: Tag[] = [tag('t', '1'), tag('t', '2'), tag('u', '1')];

const tagArb = fc.constantFrom(...TAGS);
const tagsArb = fc.uniqueArray(tagArb, { maxLength: 3, selector: (t) => `${t.key}=${t.value}` });

const filterArb: fc.Arbitrary<ReplicationFilter> = fc.oneof(
  fc.constant<ReplicationFilter>({ kind: 'all' }),
  fc.constantFrom(...PREFIXES).map((prefix): ReplicationFilter => ({ kind: 'prefix', prefix })),
  tagArb.map((t): ReplicationFilter => ({ kind: 'tag', tag: t })),
  fc
    .record({ prefix: fc.option(fc.constantFrom(...PREFIXES), { nil: undefined }), tags: tagsArb })
    .map(({ prefix, tags }): ReplicationFilter => ({ kind: 'and', ...(prefix === undefined ? {} : { prefix }), tags })),
);

const statusArb = fc.constantFrom<'Enabled' | 'Disabled'>('Enabled', 'Enabled', 'Disabled');

/** Rules of a V2 document with distinct priorities (as validation requires). */
const v2RulesArb = fc
  .array(
    fc.record({
      dst: fc.constantFrom(...DESTINATIONS),
      filter: filterArb,
      status: statusArb,
      dmr: statusArb,
      rm: statusArb,
      storageClass: fc.option(fc.constantFrom('STANDARD_IA', 'GLACIER_IR'), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .chain((specs) =>
    fc
      .uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: specs.length, maxLength: specs.length })
      .map((priorities) =>
        specs.map((s, i) =>
          v2(`r${i}`, s.dst, priorities[i], s.filter, {
            status: s.status,
            deleteMarkerReplication: s.dmr,
            replicaModifications: s.rm,
            destination: destination(s.dst, s.storageClass),
          }),
        ),
      ),
  );

const v1RulesArb = fc
  .array(
    fc.record({ dst: fc.constantFrom(...DESTINATIONS), prefix: fc.constantFrom(...PREFIXES), status: statusArb }),
    {
      minLength: 1,
      maxLength: 5,
    },
  )
  .map((specs) => specs.map((s, i) => v1(`r${i}`, s.dst, { prefix: s.prefix, status: s.status })));

const subjectArb: fc.Arbitrary<ReplicationSubject> = fc.record({
  key: fc.constantFrom(...KEYS),
  tags: tagsArb,
  storageClass: fc.constantFrom('STANDARD', 'STANDARD_IA', 'GLACIER', 'DEEP_ARCHIVE'),
  replica: fc.boolean(),
});

const operationArb = fc.constantFrom<ReplicationOperation>('object', 'delete-marker', 'metadata');

const configArb = fc.oneof(v1RulesArb, v2RulesArb).map((rules) => config(...rules));

function byDestination(targets: ReplicationTarget[]): Map<string, ReplicationTarget> {
  return new Map(targets.map((t) => [t.destination, t]));
}

describe('planReplication properties', () => {
  it('plans at most one target per destination', () => {
    fc.assert(
      fc.property(configArb, subjectArb, operationArb, (c, s, op) => {
        const targets = planReplication(c, s, op);
        assert.equal(new Set(targets.map((t) => t.destination)).size, targets.length);
      }),
    );
  });

  it('every target comes from an enabled rule to that destination that matches the key, with its storage class', () => {
    fc.assert(
      fc.property(configArb, subjectArb, operationArb, (c, s, op) => {
        for (const t of planReplication(c, s, op)) {
          const rule = c.rules.find((r) => r.id === t.ruleId);
          assert.ok(rule, `rule ${t.ruleId} exists`);
          assert.equal(rule.status, 'Enabled');
          assert.equal(rule.destination.bucket, t.destination);
          assert.equal(t.storageClass, rule.destination.storageClass);
          assert.ok(ruleMatches(rule, op === 'delete-marker' ? { ...s, tags: [] } : s));
        }
      }),
    );
  });

  it('V2: the result does not depend on the order of rules with distinct priorities', () => {
    fc.assert(
      fc.property(
        v2RulesArb.chain((rules) =>
          fc.tuple(fc.constant(rules), fc.shuffledSubarray(rules, { minLength: rules.length })),
        ),
        subjectArb,
        operationArb,
        ([rules, shuffled], s, op) => {
          const a = byDestination(planReplication(config(...rules), s, op));
          const b = byDestination(planReplication(config(...shuffled), s, op));
          assert.deepEqual(b, a);
        },
      ),
    );
  });

  it('V2 objects: each destination gets the matching enabled rule with the highest priority', () => {
    fc.assert(
      fc.property(v2RulesArb, subjectArb, (rules, s) => {
        const subj = { ...s, replica: false, storageClass: 'STANDARD' };
        const expected = new Map<string, string>();
        for (const d of DESTINATIONS) {
          const candidates = rules
            .filter((r) => r.status === 'Enabled' && r.destination.bucket === d && ruleMatches(r, subj))
            .sort((x, y) => (y.priority ?? 0) - (x.priority ?? 0));
          if (candidates.length > 0) expected.set(d, candidates[0].id);
        }
        const got = new Map(planReplication(config(...rules), subj, 'object').map((t) => [t.destination, t.ruleId]));
        assert.deepEqual(got, expected);
      }),
    );
  });

  it('V1 objects: each destination gets the first matching enabled rule', () => {
    fc.assert(
      fc.property(v1RulesArb, subjectArb, operationArb, (rules, s, op) => {
        const subj = { ...s, replica: false, storageClass: 'STANDARD' };
        const expected = new Map<string, string>();
        for (const r of rules) {
          if (r.status === 'Enabled' && ruleMatches(r, subj) && !expected.has(r.destination.bucket)) {
            expected.set(r.destination.bucket, r.id);
          }
        }
        const got = new Map(planReplication(config(...rules), subj, op).map((t) => [t.destination, t.ruleId]));
        // V1: objects, metadata and delete markers all go the same way.
        assert.deepEqual(got, expected);
      }),
    );
  });

  it('replicas are never planned as objects or markers; archived objects never as objects or metadata', () => {
    fc.assert(
      fc.property(configArb, subjectArb, (c, s) => {
        if (s.replica) {
          assert.deepEqual(planReplication(c, s, 'object'), []);
          assert.deepEqual(planReplication(c, s, 'delete-marker'), []);
        }
        if (s.storageClass === 'GLACIER' || s.storageClass === 'DEEP_ARCHIVE') {
          assert.deepEqual(planReplication(c, s, 'object'), []);
          assert.deepEqual(planReplication(c, s, 'metadata'), []);
        }
      }),
    );
  });

  it('V2 delete markers: never via a rule with a tag filter or without DeleteMarkerReplication Enabled', () => {
    fc.assert(
      fc.property(v2RulesArb, subjectArb, (rules, s) => {
        for (const t of planReplication(config(...rules), s, 'delete-marker')) {
          const rule = rules.find((r) => r.id === t.ruleId)!;
          assert.equal(rule.deleteMarkerReplication, 'Enabled');
          assert.notEqual(rule.filter?.kind, 'tag');
          if (rule.filter?.kind === 'and') assert.equal(rule.filter.tags.length, 0);
        }
      }),
    );
  });

  it('a replica metadata change goes only through rules with ReplicaModifications Enabled', () => {
    fc.assert(
      fc.property(configArb, subjectArb, (c, s) => {
        for (const t of planReplication(c, { ...s, replica: true }, 'metadata')) {
          assert.equal(c.rules.find((r) => r.id === t.ruleId)?.replicaModifications, 'Enabled');
        }
      }),
    );
  });
});
