/**
 * The `<ReplicationConfiguration>` document of PutBucketReplication / GetBucketReplication:
 * parsing with S3's validation, and rendering back as GET returns it. Pure functions; the
 * handler adds the checks that need other buckets (existence, versioning, owner).
 *
 * Schema version (V1/V2). A rule with `<Filter>` is a V2 rule; a rule with a rule-level
 * `<Prefix>` is a V1 rule. The document is V2 when every rule is. As soon as one rule is
 * V1 the whole document is validated as V1: S3 answers a document mixing a filtered rule
 * with an unfiltered one to a second destination with "Number of distinct destination bucket
 * ARNs cannot exceed 1" (terraform-aws-modules/terraform-aws-s3-bucket#104), which only the
 * V1 rules produce. V2-only elements in a V1 document are refused with S3's
 * "X cannot be used for this version of Cross Region Replication configuration schema"
 * (observed for DeleteMarkerReplication, rust-lang/simpleinfra#468).
 */
import { randomUUID } from 'node:crypto';
import { S3Error } from '../core/errors.ts';
import type {
  ReplicationConfiguration,
  ReplicationDestination,
  ReplicationFilter,
  ReplicationRule,
  RuleStatus,
  Tag,
} from '../storage/types.ts';
import { isValidTagKey, isValidTagValue } from './tagging.ts';
import { literalParser, parseDocument, toXml, type XmlObject, type XmlValue } from './xml.ts';
import { STORAGE_CLASSES } from './headers.ts';

export const MAX_REPLICATION_RULES = 1000;
export const MAX_RULE_ID_LENGTH = 255;
export const MAX_PREFIX_LENGTH = 1024;
const MAX_PRIORITY = 2_147_483_647;
/** RTC and its metrics accept exactly this threshold. */
export const RTC_MINUTES = 15;
const BUCKET_ARN_PREFIX = 'arn:aws:s3:::';

/** The storage classes the model's `Destination/StorageClass` enum allows. */
export const REPLICATION_STORAGE_CLASSES: readonly string[] = Object.freeze([...STORAGE_CLASSES, 'FSX_OPENZFS']);

// Prefixes and tag values keep their whitespace (a key may begin with a space), so the
// document is read with `literalParser`; whitespace-only text between elements is dropped in `children`.

const TEXT = '#text';

function malformed(): S3Error {
  return new S3Error('MalformedXML');
}

/** `X must be specified / cannot be used for this version of ...` (S3's wording). */
function schemaVersionError(element: string, required: boolean): S3Error {
  const verb = required ? 'must be specified' : 'cannot be used';
  return new S3Error(
    'InvalidRequest',
    `${element} ${verb} for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.`,
  );
}

function argument(name: string, value: string, message: string): S3Error {
  return new S3Error('InvalidArgument', message, { fields: { ArgumentName: name, ArgumentValue: value } });
}

/**
 * The child elements of a parsed element, checked against the names the schema allows
 * there. An empty element (`<Filter/>`) has none. Text mixed with elements is MalformedXML.
 */
function children(value: XmlValue, allowed: readonly string[]): XmlObject {
  if (typeof value === 'string') {
    if (value.trim() !== '') throw malformed();
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed();
  const out: XmlObject = {};
  for (const [name, child] of Object.entries(value)) {
    if (name === TEXT) {
      if (typeof child !== 'string' || child.trim() !== '') throw malformed();
      continue;
    }
    if (!allowed.includes(name)) throw malformed();
    out[name] = child;
  }
  return out;
}

/** A child that may appear once; undefined when absent. */
function single(el: XmlObject, name: string): XmlValue {
  const v = el[name];
  if (Array.isArray(v)) throw malformed();
  return v;
}

/** A child that may repeat (a flattened list). */
function repeated(el: XmlObject, name: string): XmlValue[] {
  const v = el[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** A text-only child; undefined when absent. */
function text(el: XmlObject, name: string): string | undefined {
  const v = single(el, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw malformed();
  return v;
}

function requiredText(el: XmlObject, name: string): string {
  const v = text(el, name);
  if (v === undefined) throw malformed();
  return v;
}

function status(value: string | undefined): RuleStatus {
  if (value !== 'Enabled' && value !== 'Disabled') throw malformed();
  return value;
}

/** `<X><Status>Enabled|Disabled</Status></X>`, the shape of several rule settings. */
function statusElement(value: XmlValue): RuleStatus {
  return status(text(children(value, ['Status']), 'Status'));
}

function integer(value: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(value)) throw malformed();
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n > MAX_PRIORITY || n < -MAX_PRIORITY - 1) throw malformed();
  return n;
}

/** Each rule's elements as the schema has them; V1 and V2 elements alike. */
const RULE_ELEMENTS = [
  'ID',
  'Priority',
  'Prefix',
  'Filter',
  'Status',
  'SourceSelectionCriteria',
  'ExistingObjectReplication',
  'Destination',
  'DeleteMarkerReplication',
];
const DESTINATION_ELEMENTS = [
  'Bucket',
  'Account',
  'StorageClass',
  'AccessControlTranslation',
  'EncryptionConfiguration',
  'ReplicationTime',
  'Metrics',
];

function parseTag(value: XmlValue): Tag {
  const el = children(value, ['Key', 'Value']);
  return { key: requiredText(el, 'Key'), value: requiredText(el, 'Value') };
}

function checkPrefix(prefix: string): string {
  if (prefix.length > MAX_PREFIX_LENGTH) {
    throw argument('Prefix', prefix, `The maximum length of a prefix is ${MAX_PREFIX_LENGTH} characters.`);
  }
  return prefix;
}

/** A Filter: empty (every key), or exactly one of Prefix, Tag, And. */
function parseFilter(value: XmlValue): ReplicationFilter {
  const el = children(value, ['Prefix', 'Tag', 'And']);
  const names = Object.keys(el);
  if (names.length === 0) return { kind: 'all' };
  if (names.length > 1) throw malformed();
  if (names[0] === 'Prefix') return { kind: 'prefix', prefix: checkPrefix(requiredText(el, 'Prefix')) };
  if (names[0] === 'Tag') return { kind: 'tag', tag: checkTags([parseTag(single(el, 'Tag'))])[0] };
  const and = children(single(el, 'And'), ['Prefix', 'Tag']);
  const prefix = text(and, 'Prefix');
  const tags = checkTags(repeated(and, 'Tag').map(parseTag));
  if (prefix === undefined && tags.length === 0) throw malformed();
  return prefix === undefined ? { kind: 'and', tags } : { kind: 'and', prefix: checkPrefix(prefix), tags };
}

function checkTags(tags: Tag[]): Tag[] {
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (seen.has(key)) throw new S3Error('InvalidRequest', 'Duplicate Tag Keys are not allowed.');
    seen.add(key);
    if (!isValidTagKey(key)) {
      throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { fields: { TagKey: key } });
    }
    if (!isValidTagValue(value)) {
      throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', {
        fields: { TagKey: key, TagValue: value },
      });
    }
  }
  return tags;
}

function filterHasTags(filter: ReplicationFilter | undefined): boolean {
  return filter?.kind === 'tag' || (filter?.kind === 'and' && filter.tags.length > 0);
}

/** `arn:aws:s3:::name` → name; anything else is InvalidArgument. */
function bucketFromArn(arn: string): string {
  const name = arn.startsWith(BUCKET_ARN_PREFIX) ? arn.slice(BUCKET_ARN_PREFIX.length) : '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) throw argument('Bucket', arn, 'Invalid bucket ARN.');
  return name;
}

/** `Minutes` under `Time` or `EventThreshold`; InvalidArgument when missing or not 15. */
function minutesOf(value: XmlValue, argumentName: string): number {
  if (value === undefined) throw argument(argumentName, '', `${argumentName} must contain a time threshold.`);
  const raw = text(children(value, ['Minutes']), 'Minutes');
  if (raw === undefined) throw argument(argumentName, '', `${argumentName} must contain a time threshold.`);
  const minutes = integer(raw);
  if (minutes !== RTC_MINUTES) {
    throw argument(argumentName, raw, `Only a value of ${RTC_MINUTES} minutes is accepted for ${argumentName}.`);
  }
  return minutes;
}

/**
 * RTC needs Metrics beside it, both with a 15-minute threshold; Metrics may stand alone
 * (replication metrics without RTC), with or without a threshold.
 */
function parseTimeControl(el: XmlObject, dest: ReplicationDestination): void {
  const rtc = single(el, 'ReplicationTime');
  const metrics = single(el, 'Metrics');
  if (metrics !== undefined) {
    const m = children(metrics, ['Status', 'EventThreshold']);
    const mStatus = text(m, 'Status');
    if (mStatus === undefined) throw argument('Metrics', '', 'Metrics must contain a Status.');
    const threshold = single(m, 'EventThreshold');
    dest.metrics = { status: status(mStatus) };
    if (threshold !== undefined) dest.metrics.minutes = minutesOf(threshold, 'EventThreshold');
  }
  if (rtc === undefined) return;
  const r = children(rtc, ['Status', 'Time']);
  const rStatus = text(r, 'Status');
  if (rStatus === undefined) throw argument('ReplicationTime', '', 'ReplicationTime must contain a Status.');
  dest.replicationTime = { status: status(rStatus), minutes: minutesOf(single(r, 'Time'), 'Time') };
  if (!dest.metrics) {
    throw new S3Error('InvalidRequest', 'Replication destination must contain both ReplicationTime and Metrics or neither.');
  }
  if (dest.replicationTime.status === 'Enabled') {
    if (dest.metrics.status !== 'Enabled') {
      throw new S3Error('InvalidRequest', 'Metrics must be enabled when ReplicationTime is enabled.');
    }
    if (dest.metrics.minutes === undefined) {
      throw argument('EventThreshold', '', 'EventThreshold must contain a time threshold.');
    }
  }
}

function parseDestination(value: XmlValue, sseKms: RuleStatus | undefined): ReplicationDestination {
  const el = children(value, DESTINATION_ELEMENTS);
  const arn = requiredText(el, 'Bucket');
  const dest: ReplicationDestination = { bucket: bucketFromArn(arn), arn };
  const account = text(el, 'Account');
  if (account !== undefined) dest.account = account;
  const storageClass = text(el, 'StorageClass');
  if (storageClass !== undefined) {
    if (!REPLICATION_STORAGE_CLASSES.includes(storageClass)) throw malformed();
    dest.storageClass = storageClass;
  }
  const act = single(el, 'AccessControlTranslation');
  if (act !== undefined) {
    if (text(children(act, ['Owner']), 'Owner') !== 'Destination') throw malformed();
    if (account === undefined || account.trim() === '') {
      throw new S3Error(
        'InvalidRequest',
        'Account must be specified if the Owner in AccessControlTranslation has a value',
      );
    }
    dest.ownerOverride = 'Destination';
  }
  const encryption = single(el, 'EncryptionConfiguration');
  if (encryption !== undefined) {
    const keyId = text(children(encryption, ['ReplicaKmsKeyID']), 'ReplicaKmsKeyID');
    if (keyId !== undefined) dest.replicaKmsKeyId = keyId;
  }
  if (sseKms === 'Enabled' && dest.replicaKmsKeyId === undefined) {
    throw new S3Error('InvalidRequest', 'ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.');
  }
  if (encryption !== undefined && sseKms === undefined) {
    throw new S3Error('InvalidRequest', 'SseKmsEncryptedObjects must be specified if EncryptionConfiguration is present.');
  }
  parseTimeControl(el, dest);
  return dest;
}

/** A rule's fields before the document's schema version decides what they may hold. */
interface RawRule {
  rule: ReplicationRule;
  isV2: boolean;
}

/** An ID S3 would make up for a rule without one: base64 of a random UUID (48 characters). */
export function generateRuleId(): string {
  return Buffer.from(randomUUID()).toString('base64');
}

function parseRule(value: XmlValue): RawRule {
  const el = children(value, RULE_ELEMENTS);
  if (Object.keys(el).length === 0) throw malformed();
  const hasFilter = single(el, 'Filter') !== undefined;
  const prefix = text(el, 'Prefix');
  // A rule says what it applies to: the V1 Prefix or the V2 Filter, exactly one of them.
  if (hasFilter === (prefix !== undefined)) throw malformed();
  const ruleStatus = status(text(el, 'Status'));
  if (single(el, 'Destination') === undefined) throw malformed();

  let id = text(el, 'ID') ?? '';
  if (id.length > MAX_RULE_ID_LENGTH) {
    throw argument('ID', id, `ID length should not exceed allowed limit of ${MAX_RULE_ID_LENGTH}`);
  }
  if (/[^\p{ASCII}]/u.test(id)) throw argument('ID', id, 'Rule ID must not contain non-ASCII characters.');
  if (id === '') id = generateRuleId();

  const rule: Omit<ReplicationRule, 'destination'> = { id, status: ruleStatus };
  const priority = text(el, 'Priority');
  if (priority !== undefined) {
    const n = integer(priority);
    if (n < 0) throw new S3Error('InvalidRequest', `Priority must be between 0 and ${MAX_PRIORITY}.`);
    rule.priority = n;
  }
  if (prefix !== undefined) rule.prefix = checkPrefix(prefix);
  if (hasFilter) rule.filter = parseFilter(single(el, 'Filter'));
  const dmr = single(el, 'DeleteMarkerReplication');
  if (dmr !== undefined) rule.deleteMarkerReplication = statusElement(dmr);
  const ssc = single(el, 'SourceSelectionCriteria');
  if (ssc !== undefined) {
    const criteria = children(ssc, ['SseKmsEncryptedObjects', 'ReplicaModifications']);
    if (Object.keys(criteria).length === 0) {
      throw new S3Error('InvalidRequest', 'SourceSelectionCriteria cannot be empty.');
    }
    const sse = single(criteria, 'SseKmsEncryptedObjects');
    if (sse !== undefined) rule.sseKmsEncryptedObjects = statusElement(sse);
    const mods = single(criteria, 'ReplicaModifications');
    if (mods !== undefined) rule.replicaModifications = statusElement(mods);
  }
  const eor = single(el, 'ExistingObjectReplication');
  if (eor !== undefined) rule.existingObjectReplication = statusElement(eor);
  const destination = parseDestination(single(el, 'Destination'), rule.sseKmsEncryptedObjects);
  return { rule: { ...rule, destination }, isV2: hasFilter };
}

/** V1: one destination, no V2-only elements. */
function checkV1(rules: RawRule[]): void {
  const arns = new Set(rules.map((r) => r.rule.destination.arn));
  if (arns.size > 1) throw new S3Error('InvalidRequest', 'Number of distinct destination bucket ARNs cannot exceed 1');
  for (const { rule } of rules) {
    if (rule.priority !== undefined) throw schemaVersionError('Priority', false);
    if (rule.deleteMarkerReplication !== undefined) throw schemaVersionError('DeleteMarkerReplication', false);
    if (rule.filter !== undefined) throw schemaVersionError('Filter', false);
    if (rule.replicaModifications !== undefined) throw schemaVersionError('ReplicaModifications', false);
    // RTC and replication metrics exist only in the V2 schema.
    if (rule.destination.replicationTime) throw schemaVersionError('ReplicationTime', false);
    if (rule.destination.metrics) throw schemaVersionError('Metrics', false);
  }
}

/** V2: Priority and DeleteMarkerReplication on every rule, priorities unique. */
function checkV2(rules: RawRule[]): void {
  const priorities = new Set<number>();
  for (const { rule } of rules) {
    if (rule.priority === undefined) throw schemaVersionError('Priority', true);
    if (rule.deleteMarkerReplication === undefined) throw schemaVersionError('DeleteMarkerReplication', true);
    if (rule.deleteMarkerReplication === 'Enabled' && filterHasTags(rule.filter)) {
      throw new S3Error(
        'InvalidRequest',
        'Delete marker replication is not supported if any Tag filter is specified. Please refer to S3 Developer Guide for more information.',
      );
    }
    // Unique across the whole document, not only among rules sharing a destination: S3 asks
    // for distinct priorities even when every rule has its own destination.
    if (priorities.has(rule.priority)) throw new S3Error('InvalidRequest', `Found duplicate priority ${rule.priority}.`);
    priorities.add(rule.priority);
  }
}

/**
 * Parses and validates a PutBucketReplication body. Errors come in S3's order: the
 * document's shape (MalformedXML), the rule count, each rule's own fields, then what the
 * schema version requires, then rule ID uniqueness.
 *
 * @example
 * parseReplicationConfiguration(`<ReplicationConfiguration><Role>arn:aws:iam::1:role/r</Role>
 *   <Rule><Status>Enabled</Status><Prefix></Prefix>
 *   <Destination><Bucket>arn:aws:s3:::dest</Bucket></Destination></Rule></ReplicationConfiguration>`)
 * // { role: 'arn:aws:iam::1:role/r', rules: [{ id: <generated>, status: 'Enabled', prefix: '', destination: { bucket: 'dest', arn: 'arn:aws:s3:::dest' } }] }
 */
export function parseReplicationConfiguration(xml: string): ReplicationConfiguration {
  const doc = parseDocument(xml, literalParser, malformed);
  const top = children(doc as XmlValue, ['?xml', 'ReplicationConfiguration']);
  if (top.ReplicationConfiguration === undefined) throw malformed();
  const root = children(single(top, 'ReplicationConfiguration'), ['Role', 'Rule']);
  const role = requiredText(root, 'Role');
  const rawRules = repeated(root, 'Rule');
  if (rawRules.length === 0) throw malformed();
  if (rawRules.length > MAX_REPLICATION_RULES) {
    throw new S3Error(
      'InvalidRequest',
      `The number of replication rules must not exceed the allowed limit of ${MAX_REPLICATION_RULES} rules.`,
    );
  }
  const rules = rawRules.map(parseRule);
  if (rules.every((r) => r.isV2)) checkV2(rules);
  else checkV1(rules);
  const ids = new Set<string>();
  for (const { rule } of rules) {
    if (ids.has(rule.id)) throw argument('ID', rule.id, 'Rule Id must be unique.');
    ids.add(rule.id);
  }
  return { role, rules: rules.map((r) => r.rule) };
}

/** Whether a stored configuration is in the V2 schema (its rules carry Filters). */
export function isV2Configuration(config: ReplicationConfiguration): boolean {
  return config.rules.length > 0 && config.rules.every((r) => r.filter !== undefined);
}

function tagXml(t: Tag): XmlObject {
  return { Key: t.key, Value: t.value };
}

function filterXml(f: ReplicationFilter): XmlObject {
  switch (f.kind) {
    case 'all':
      return {};
    case 'prefix':
      return { Prefix: f.prefix };
    case 'tag':
      return { Tag: tagXml(f.tag) };
    case 'and': {
      const and: XmlObject = {};
      if (f.prefix !== undefined) and.Prefix = f.prefix;
      and.Tag = f.tags.map(tagXml);
      return { And: and };
    }
  }
}

function statusXml(s: RuleStatus): XmlObject {
  return { Status: s };
}

function destinationXml(d: ReplicationDestination): XmlObject {
  const out: XmlObject = { Bucket: d.arn };
  if (d.account !== undefined) out.Account = d.account;
  if (d.storageClass !== undefined) out.StorageClass = d.storageClass;
  if (d.ownerOverride !== undefined) out.AccessControlTranslation = { Owner: d.ownerOverride };
  if (d.replicaKmsKeyId !== undefined) out.EncryptionConfiguration = { ReplicaKmsKeyID: d.replicaKmsKeyId };
  if (d.replicationTime) {
    out.ReplicationTime = { Status: d.replicationTime.status, Time: { Minutes: d.replicationTime.minutes } };
  }
  if (d.metrics) {
    const m: XmlObject = { Status: d.metrics.status };
    if (d.metrics.minutes !== undefined) m.EventThreshold = { Minutes: d.metrics.minutes };
    out.Metrics = m;
  }
  return out;
}

/** A rule in the member order of the S3 model's `ReplicationRule` shape. */
function ruleXml(r: ReplicationRule): XmlObject {
  const out: XmlObject = { ID: r.id };
  if (r.filter !== undefined) {
    // GET answers a V2 rule with Priority and DeleteMarkerReplication always present.
    out.Priority = r.priority ?? 0;
  } else if (r.priority !== undefined) {
    out.Priority = r.priority;
  }
  if (r.prefix !== undefined) out.Prefix = r.prefix;
  if (r.filter !== undefined) out.Filter = filterXml(r.filter);
  out.Status = r.status;
  if (r.sseKmsEncryptedObjects !== undefined || r.replicaModifications !== undefined) {
    const ssc: XmlObject = {};
    if (r.sseKmsEncryptedObjects !== undefined) ssc.SseKmsEncryptedObjects = statusXml(r.sseKmsEncryptedObjects);
    if (r.replicaModifications !== undefined) ssc.ReplicaModifications = statusXml(r.replicaModifications);
    out.SourceSelectionCriteria = ssc;
  }
  if (r.existingObjectReplication !== undefined) out.ExistingObjectReplication = statusXml(r.existingObjectReplication);
  out.Destination = destinationXml(r.destination);
  if (r.filter !== undefined) out.DeleteMarkerReplication = statusXml(r.deleteMarkerReplication ?? 'Disabled');
  return out;
}

/** The GetBucketReplication body for a stored configuration. */
export function replicationConfigurationXml(config: ReplicationConfiguration): string {
  return toXml('ReplicationConfiguration', { Role: config.role, Rule: config.rules.map(ruleXml) });
}
