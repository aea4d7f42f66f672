/**
 * Which destinations a write replicates to: a pure function of a bucket's replication
 * configuration and the version written (S3's rules, spec A.4 and A.7).
 *
 * - Only enabled rules count; a rule matches by key prefix and, in V2, by tags (all of a
 *   rule's tags must be on the object).
 * - Replicas are not replicated again (A→B→C stops at B), which also keeps two-way
 *   replication from looping; only metadata changes made on a replica go back, under a
 *   rule with ReplicaModifications enabled.
 * - Delete markers: V1 rules always replicate them; V2 rules only with
 *   DeleteMarkerReplication enabled and no tag filter.
 * - Archived objects (GLACIER, DEEP_ARCHIVE) are not replicated.
 * - Matching rules are grouped by destination bucket; in each group the rule with the highest
 *   priority governs: its storage class applies, and its delete-marker and replica-modification
 *   settings decide for that destination. V1 rules have no priority: the first in the
 *   document governs.
 */
import type { ReplicationConfiguration, ReplicationOperation, ReplicationRule, Tag } from '../storage/types.ts';

/** What the rules look at in a version. */
export interface ReplicationSubject {
  key: string;
  tags?: readonly Tag[];
  storageClass: string;
  /** the version was itself written by replication */
  replica?: boolean;
}

export interface ReplicationTarget {
  /** destination bucket name */
  destination: string;
  ruleId: string;
  /** the storage class the replica is given, if the rule sets one */
  storageClass?: string;
  /** the account that owns the replica, under AccessControlTranslation (Owner: Destination) */
  owner?: string;
}

const NOT_REPLICATED_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/** Whether the configuration is V2: any rule with a Filter (or RTC/metrics, which need one). */
export function isV2(config: ReplicationConfiguration): boolean {
  return config.rules.some((r) => r.filter !== undefined);
}

export function ruleMatches(rule: ReplicationRule, subject: ReplicationSubject): boolean {
  const tags = subject.tags ?? [];
  const hasTag = (t: Tag) => tags.some((x) => x.key === t.key && x.value === t.value);
  if (rule.filter === undefined) return subject.key.startsWith(rule.prefix ?? '');
  switch (rule.filter.kind) {
    case 'all':
      return true;
    case 'prefix':
      return subject.key.startsWith(rule.filter.prefix);
    case 'tag':
      return hasTag(rule.filter.tag);
    case 'and':
      return subject.key.startsWith(rule.filter.prefix ?? '') && rule.filter.tags.every(hasTag);
  }
}

function usesTags(rule: ReplicationRule): boolean {
  return rule.filter?.kind === 'tag' || (rule.filter?.kind === 'and' && rule.filter.tags.length > 0);
}

/** Whether the rule governing a destination sends this operation there. */
function sends(rule: ReplicationRule, operation: ReplicationOperation, v2: boolean, subject: ReplicationSubject): boolean {
  if (subject.replica) {
    // Only metadata changes made on a replica travel, and only where the rule syncs them back.
    return operation === 'metadata' && rule.replicaModifications === 'Enabled';
  }
  if (operation === 'delete-marker') return !v2 || (rule.deleteMarkerReplication === 'Enabled' && !usesTags(rule));
  return true;
}

/** The destinations a version replicates to, one target per destination bucket. */
export function planReplication(
  config: ReplicationConfiguration,
  subject: ReplicationSubject,
  operation: ReplicationOperation,
): ReplicationTarget[] {
  if (operation !== 'delete-marker' && NOT_REPLICATED_CLASSES.has(subject.storageClass)) return [];
  const v2 = isV2(config);
  // A marker has no tags: only the key decides which rules match it.
  const matched = operation === 'delete-marker' ? { ...subject, tags: [] } : subject;
  const governing = new Map<string, ReplicationRule>();
  for (const rule of config.rules) {
    if (rule.status !== 'Enabled' || !ruleMatches(rule, matched)) continue;
    const destination = rule.destination.bucket;
    const current = governing.get(destination);
    if (!current || (v2 && (rule.priority ?? 0) > (current.priority ?? 0))) governing.set(destination, rule);
  }
  // The governing rule of each destination alone decides whether this operation goes there.
  for (const [destination, rule] of governing) {
    if (!sends(rule, operation, v2, subject)) governing.delete(destination);
  }
  return [...governing.entries()].map(([destination, rule]): ReplicationTarget => {
    const target: ReplicationTarget = { destination, ruleId: rule.id, storageClass: rule.destination.storageClass };
    if (rule.destination.ownerOverride === 'Destination' && rule.destination.account !== undefined) {
      target.owner = rule.destination.account;
    }
    return target;
  });
}
