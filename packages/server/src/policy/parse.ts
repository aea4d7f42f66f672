/**
 * Reading a bucket or Multi-Region Access Point policy as S3's PutBucketPolicy does: the first
 * fault found is thrown as `400 MalformedPolicy` with S3's message for it. Checks run in the
 * order S3 appears to run them: the document's form as JSON, its size, its members, then each
 * statement in order (Effect, Principal, Action, Resource, whether the actions apply to the
 * resources, Condition).
 */
import { S3Error } from '../core/errors.ts';
import { actionsNamedBy, type ActionKind } from './actions.ts';
import { invalidValue, parseOperator } from './conditions.ts';
import { readJson, type JsonObject, type JsonValue } from './json.ts';
import { parseAwsPrincipal } from './principal.ts';
import { hasVariable } from './variables.ts';
import { wildcardMatch } from './wildcard.ts';
import type { AwsPrincipal, Condition, Policy, PolicyKind, PolicyVersion, PrincipalSet, Statement } from './types.ts';

export interface ParseOptions {
  kind: PolicyKind;
  /**
   * The ARN(s) of what the policy is attached to: `arn:aws:s3:::<bucket>` for a bucket,
   * `arn:aws:s3::<account>:accesspoint/<alias>` for an MRAP. When given, every `Resource` must
   * lie within one of them ("Policy has invalid resource"), as S3 refuses a policy naming
   * another bucket.
   */
  resourceArns?: readonly string[];
  /**
   * Whether a user, role or account a policy names exists. S3 refuses a policy naming an
   * unknown IAM identity ("Invalid principal in policy"); without this, any well-formed one
   * is accepted.
   */
  principalExists?: (principal: AwsPrincipal) => boolean;
}

/** S3's limit on a bucket policy, measured without insignificant whitespace. */
export const MAX_POLICY_BYTES = 20_480;
/** Longest text read at all (whitespace included); callers should bound the body before this. */
export const MAX_POLICY_TEXT = 1 << 20;

export const MESSAGES = {
  notJson: "Policies must be valid JSON and the first byte must be '{'",
  invalidJson: 'This policy contains invalid Json',
  tooLarge: `Normalized policy document exceeds the maximum allowed size of ${MAX_POLICY_BYTES} bytes`,
  syntax: 'Invalid policy syntax.',
  version: 'The policy must contain a valid version string',
  missingStatement: 'Missing required field Statement',
  emptyStatement: 'Could not parse the policy: Statement is empty!',
  duplicateSid: 'Statement IDs (SID) in a single policy must be unique',
  missingEffect: 'Missing required field Effect',
  missingPrincipal: 'Missing required field Principal',
  principal: 'Invalid principal in policy',
  missingAction: 'Missing required field Action',
  action: 'Policy has invalid action',
  missingResource: 'Missing required field Resource',
  resource: 'Policy has invalid resource',
  notApplicable: 'Action does not apply to any resource(s) in statement',
  conditionKey: 'Policy has an invalid condition key',
  unknownField: (name: string) => `Unknown field ${name}`,
  effect: (effect: string) => `Invalid effect: ${effect}`,
  conditionType: (written: string) => `Invalid Condition type : ${written}`,
  conditionValue: (written: string) => `Invalid value in Conditions for operator ${written}`,
} as const;

const POLICY_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

/**
 * S3's own condition keys (lowercase). Any `aws:` key is accepted, as AWS keeps adding global
 * keys; an unknown `s3:` key or a key of another service is refused.
 */
const S3_KEYS = new Set(
  [
    's3:AccessPointNetworkOrigin',
    's3:authType',
    's3:DataAccessPointAccount',
    's3:DataAccessPointArn',
    's3:delimiter',
    's3:ExistingJobOperation',
    's3:ExistingJobPriority',
    's3:if-match',
    's3:if-none-match',
    's3:JobSuspendedCause',
    's3:LocationConstraint',
    's3:max-keys',
    's3:object-lock-legal-hold',
    's3:object-lock-mode',
    's3:object-lock-remaining-retention-days',
    's3:object-lock-retain-until-date',
    's3:ObjectCreationOperation',
    's3:prefix',
    's3:RequestJobOperation',
    's3:RequestJobPriority',
    's3:RequestObjectTagKeys',
    's3:ResourceAccount',
    's3:signatureAge',
    's3:signatureversion',
    's3:TlsVersion',
    's3:VersionId',
    's3:x-amz-acl',
    's3:x-amz-content-sha256',
    's3:x-amz-copy-source',
    's3:x-amz-grant-full-control',
    's3:x-amz-grant-read',
    's3:x-amz-grant-read-acp',
    's3:x-amz-grant-write',
    's3:x-amz-grant-write-acp',
    's3:x-amz-metadata-directive',
    's3:x-amz-object-ownership',
    's3:x-amz-server-side-encryption',
    's3:x-amz-server-side-encryption-aws-kms-key-id',
    's3:x-amz-server-side-encryption-customer-algorithm',
    's3:x-amz-storage-class',
    's3:x-amz-website-redirect-location',
  ].map((k) => k.toLowerCase()),
);
const S3_TAG_KEYS = ['s3:existingobjecttag/', 's3:requestobjecttag/'];

const BUCKET_ARN = 'arn:aws:s3:::';
const MRAP_ARN = /^arn:aws:s3::([^:/]+):accesspoint\/([^/]+)(\/.*)?$/s;

function malformed(message: string): S3Error {
  return new S3Error('MalformedPolicy', message);
}

/**
 * Reads a policy document, throwing `S3Error('MalformedPolicy')` with S3's message for the
 * first fault.
 *
 * @example
 * parsePolicy(
 *   '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",' +
 *     '"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}]}',
 *   { kind: 'bucket', resourceArns: ['arn:aws:s3:::photos'] },
 * );
 */
export function parsePolicy(text: string, opts: ParseOptions): Policy {
  if (!text.startsWith('{')) throw malformed(MESSAGES.notJson);
  // A document this long cannot normalize to the limit; refuse it before reading it.
  if (text.length > MAX_POLICY_TEXT) throw malformed(MESSAGES.tooLarge);
  let doc: JsonValue;
  try {
    doc = readJson(text);
  } catch {
    throw malformed(MESSAGES.invalidJson);
  }
  if (!isObject(doc)) throw malformed(MESSAGES.notJson);
  if (Buffer.byteLength(JSON.stringify(doc)) > MAX_POLICY_BYTES) throw malformed(MESSAGES.tooLarge);
  for (const name of Object.keys(doc)) {
    if (!POLICY_FIELDS.has(name)) throw malformed(MESSAGES.unknownField(name));
  }

  let version: PolicyVersion = '2008-10-17';
  if (doc.Version !== undefined) {
    if (doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') throw malformed(MESSAGES.version);
    version = doc.Version;
  }
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw malformed(MESSAGES.syntax);

  const raw = doc.Statement;
  if (raw === undefined) throw malformed(MESSAGES.missingStatement);
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
  if (!list) throw malformed(MESSAGES.syntax);
  if (list.length === 0) throw malformed(MESSAGES.emptyStatement);

  const statements = list.map((s, i) => parseStatement(s, i, opts));
  const sids = new Set<string>();
  for (const s of statements) {
    if (s.sid === undefined) continue;
    if (sids.has(s.sid)) throw malformed(MESSAGES.duplicateSid);
    sids.add(s.sid);
  }
  return { kind: opts.kind, version, ...(typeof doc.Id === 'string' ? { id: doc.Id } : {}), statements };
}

function parseStatement(value: JsonValue, index: number, opts: ParseOptions): Statement {
  if (!isObject(value)) throw malformed(MESSAGES.syntax);
  for (const name of Object.keys(value)) {
    if (!STATEMENT_FIELDS.has(name)) throw malformed(MESSAGES.unknownField(name));
  }
  for (const [a, b] of [
    ['Principal', 'NotPrincipal'],
    ['Action', 'NotAction'],
    ['Resource', 'NotResource'],
  ]) {
    if (value[a] !== undefined && value[b] !== undefined) throw malformed(MESSAGES.syntax);
  }
  if (value.Sid !== undefined && typeof value.Sid !== 'string') throw malformed(MESSAGES.syntax);

  const effect = value.Effect;
  if (effect === undefined) throw malformed(MESSAGES.missingEffect);
  if (effect !== 'Allow' && effect !== 'Deny') {
    throw malformed(MESSAGES.effect(typeof effect === 'string' ? effect : JSON.stringify(effect)));
  }

  const notPrincipal = value.NotPrincipal !== undefined;
  const rawPrincipal = notPrincipal ? value.NotPrincipal : value.Principal;
  if (rawPrincipal === undefined) throw malformed(MESSAGES.missingPrincipal);
  const principal = parsePrincipal(rawPrincipal, opts);
  // "NotPrincipal must be used with "Effect":"Deny". Using it with "Effect":"Allow" is not supported."
  if (notPrincipal && effect === 'Allow') throw malformed(MESSAGES.principal);

  const notAction = value.NotAction !== undefined;
  const rawAction = notAction ? value.NotAction : value.Action;
  if (rawAction === undefined) throw malformed(MESSAGES.missingAction);
  const actions = strings(rawAction);
  if (!actions || actions.length === 0) throw malformed(MESSAGES.action);
  const named = actions.map((pattern) => {
    const found = pattern === '*' || /^s3:/i.test(pattern) ? actionsNamedBy(pattern) : [];
    if (found.length === 0) throw malformed(MESSAGES.action);
    return found;
  });

  const notResource = value.NotResource !== undefined;
  const rawResource = notResource ? value.NotResource : value.Resource;
  if (rawResource === undefined) throw malformed(MESSAGES.missingResource);
  const resources = strings(rawResource);
  if (!resources || resources.length === 0) throw malformed(MESSAGES.resource);
  const reached = new Set<ActionKind>();
  for (const pattern of resources) {
    for (const kind of resourceKinds(pattern, opts)) reached.add(kind);
  }
  if (!notAction && !notResource && !named.every((found) => found.some((a) => reached.has(a.kind)))) {
    throw malformed(MESSAGES.notApplicable);
  }

  const conditions = value.Condition === undefined ? [] : parseConditions(value.Condition);
  return {
    index,
    ...(value.Sid !== undefined ? { sid: value.Sid } : {}),
    effect,
    principal,
    notPrincipal,
    actions,
    notAction,
    resources,
    notResource,
    conditions,
  };
}

function parsePrincipal(value: JsonValue, opts: ParseOptions): PrincipalSet {
  const set: PrincipalSet = { everyone: false, aws: [], canonicalUsers: [], services: [], federated: [] };
  if (value === '*') return { ...set, everyone: true };
  if (!isObject(value) || Object.keys(value).length === 0) throw malformed(MESSAGES.principal);
  for (const [name, raw] of Object.entries(value)) {
    const list = strings(raw);
    if (!list || list.length === 0 || list.some((v) => v === '')) throw malformed(MESSAGES.principal);
    if (name === 'AWS') {
      for (const v of list) {
        if (v === '*') {
          set.everyone = true;
          continue;
        }
        const parsed = v.includes('*') || v.includes('?') ? undefined : parseAwsPrincipal(v);
        if (!parsed || (opts.principalExists && !opts.principalExists(parsed))) throw malformed(MESSAGES.principal);
        set.aws.push(parsed);
      }
      continue;
    }
    const target =
      name === 'CanonicalUser'
        ? set.canonicalUsers
        : name === 'Service'
          ? set.services
          : name === 'Federated'
            ? set.federated
            : undefined;
    if (!target || list.some((v) => v.includes('*') || v.includes('?'))) throw malformed(MESSAGES.principal);
    target.push(...list);
  }
  return set;
}

/** Which kinds of resource a `Resource` pattern can name; throws if it is not a valid one. */
function resourceKinds(pattern: string, opts: ParseOptions): ActionKind[] {
  return opts.kind === 'bucket' ? bucketResourceKinds(pattern, opts) : mrapResourceKinds(pattern, opts);
}

function bucketResourceKinds(pattern: string, opts: ParseOptions): ActionKind[] {
  if (!pattern.startsWith(BUCKET_ARN)) throw malformed(MESSAGES.resource);
  const rest = pattern.slice(BUCKET_ARN.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (bucket === '') throw malformed(MESSAGES.resource);
  const allowed = opts.resourceArns?.map((arn) => arn.slice(BUCKET_ARN.length));
  if (allowed && !hasVariable(bucket) && !allowed.some((b) => wildcardMatch(bucket, b))) {
    throw malformed(MESSAGES.resource);
  }
  if (slash >= 0) return ['object'];
  // A `*` reaches across `/`: `arn:aws:s3:::photos*` names the bucket and its objects.
  return bucket.includes('*') ? ['bucket', 'object'] : ['bucket'];
}

function mrapResourceKinds(pattern: string, opts: ParseOptions): ActionKind[] {
  const m = MRAP_ARN.exec(pattern);
  if (!m) throw malformed(MESSAGES.resource);
  const [, account, alias, rest] = m;
  if (opts.resourceArns) {
    const within = opts.resourceArns.some((arn) => {
      const base = MRAP_ARN.exec(arn);
      return base !== null && wildcardMatch(account, base[1]) && (hasVariable(alias) || wildcardMatch(alias, base[2]));
    });
    if (!within) throw malformed(MESSAGES.resource);
  }
  if (rest === undefined) return alias.includes('*') ? ['bucket', 'mrap', 'object'] : ['bucket', 'mrap'];
  if (rest.startsWith('/object/') || /^\/[*?]/.test(rest)) return ['object'];
  throw malformed(MESSAGES.resource);
}

function parseConditions(value: JsonValue): Condition[] {
  if (!isObject(value)) throw malformed(MESSAGES.syntax);
  const out: Condition[] = [];
  for (const [written, block] of Object.entries(value)) {
    const op = parseOperator(written);
    if (!op) throw malformed(MESSAGES.conditionType(written));
    if (!isObject(block)) throw malformed(MESSAGES.syntax);
    for (const [key, raw] of Object.entries(block)) {
      checkConditionKey(key);
      const values = conditionValues(raw);
      if (!values) throw malformed(MESSAGES.conditionValue(written));
      for (const v of values) {
        const problem = invalidValue(op.operator, v);
        if (problem) throw malformed(problem);
      }
      out.push({ written, ...op, key, values });
    }
  }
  return out;
}

function checkConditionKey(key: string): void {
  const lower = key.toLowerCase();
  if (lower.startsWith('aws:') && lower.length > 4) return;
  if (S3_KEYS.has(lower)) return;
  if (S3_TAG_KEYS.some((prefix) => lower.startsWith(prefix) && lower.length > prefix.length)) return;
  throw malformed(MESSAGES.conditionKey);
}

/** A condition's values: a string, number or boolean, or a list of them. */
function conditionValues(raw: JsonValue): string[] | undefined {
  const one = (v: JsonValue): string | undefined =>
    typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  const list = Array.isArray(raw) ? raw.map(one) : [one(raw)];
  return list.every((v): v is string => v !== undefined) ? list : undefined;
}

/** An element that takes a string or a list of strings ("the brackets are optional"). */
function strings(raw: JsonValue): string[] | undefined {
  if (typeof raw === 'string') return [raw];
  if (!Array.isArray(raw) || !raw.every((v): v is string => typeof v === 'string')) return undefined;
  return raw;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
