/**
 * Access control lists: canned ACL names expanded into grants, the `x-amz-grant-*` headers
 * and the AccessControlPolicy XML. Pure functions; storage keeps `Grant[]`, with canonical
 * user ids (64 hex digits) for users.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { S3Error } from '../core/errors.ts';
import type { Grant, Grantee, Permission } from '../storage/types.ts';
import { parseDocument, type XmlObject } from './xml.ts';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
export const GROUP_URIS: ReadonlySet<string> = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** S3 allows at most 100 grants in one ACL. */
export const MAX_GRANTS = 100;

export const CANNED_ACLS = new Set([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
]);

export const PERMISSIONS: ReadonlySet<string> = new Set<Permission>(['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP']);

/** The grant headers and the permission each grants, in the order their grants are listed. */
export const GRANT_HEADERS: readonly (readonly [header: string, permission: Permission])[] = [
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
];

const MALFORMED_ACL = 'The XML you provided was not well-formed or did not validate against our published schema';

const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });
const user = (id: string, permission: Permission): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission });

/**
 * The grants a canned ACL stands for. `owner` is the canonical id of the resource's owner,
 * `bucketOwner` that of the bucket's owner (for the bucket-owner-* ACLs of objects; on a
 * bucket they add nothing).
 */
export function cannedGrants(name: string, owner: string, bucketOwner = owner): Grant[] {
  const grants = [user(owner, 'FULL_CONTROL')];
  switch (name) {
    case 'public-read':
      grants.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== owner) grants.push(user(bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) grants.push(user(bucketOwner, 'FULL_CONTROL'));
      break;
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
  }
  return grants;
}

/** The ACL of a resource that never had one set: its owner has FULL_CONTROL. */
export function privateGrants(owner: string): Grant[] {
  return cannedGrants('private', owner);
}

/** A canonical user id: 64 hexadecimal digits. */
export function isCanonicalId(id: string): boolean {
  return /^[0-9a-fA-F]{64}$/.test(id);
}

/** Where a request's ACL comes from, before the owner is known. */
export type AclSource = { kind: 'canned'; name: string } | { kind: 'grants'; grants: Grant[] };

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function invalidArgument(message: string | undefined, name: string, value: string): S3Error {
  return new S3Error('InvalidArgument', message, { fields: { ArgumentName: name, ArgumentValue: value } });
}

/** One grantee of a grant header (`id=…`, `uri=…`, `emailAddress=…`), as its type would have it. */
function granteeOf(headerName: string, entry: string): Grantee {
  const eq = entry.indexOf('=');
  const type = eq === -1 ? '' : entry.slice(0, eq).trim().toLowerCase();
  let value = eq === -1 ? '' : entry.slice(eq + 1).trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  switch (type) {
    case 'id':
      if (!isCanonicalId(value)) throw invalidArgument('Invalid id', 'id', value);
      return { type: 'CanonicalUser', id: value.toLowerCase() };
    case 'uri':
      if (!GROUP_URIS.has(value)) throw invalidArgument('Invalid group uri', 'uri', value);
      return { type: 'Group', uri: value };
    case 'emailaddress':
      // There is no directory of e-mail addresses to resolve one to an account.
      throw new S3Error('UnresolvableGrantByEmailAddress', undefined, { fields: { EmailAddress: value } });
    default:
      throw invalidArgument('Argument format not recognized', headerName, entry);
  }
}

/**
 * The grants of one `x-amz-grant-*` header: a comma-separated list of `type=value`, where type
 * is `id`, `uri` or `emailAddress` and the value is quoted or bare.
 *
 * @example
 * parseGrantHeader('x-amz-grant-read', 'READ', 'uri="http://acs.amazonaws.com/groups/global/AllUsers", id="79a5…"')
 */
export function parseGrantHeader(headerName: string, permission: Permission, value: string): Grant[] {
  return splitGrantees(value).map((entry) => ({ grantee: granteeOf(headerName, entry), permission }));
}

/** Splits on the commas that are not inside double quotes; every entry trimmed. */
function splitGrantees(value: string): string[] {
  const entries: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      entries.push(current.trim());
      current = '';
    } else {
      current += c;
    }
  }
  entries.push(current.trim());
  return entries;
}

/**
 * The ACL a request's headers ask for, validated, or undefined when it names none:
 * `x-amz-acl` (a canned ACL) or `x-amz-grant-*` headers, never both.
 */
export function aclSourceFromHeaders(headers: IncomingHttpHeaders): AclSource | undefined {
  const canned = headerValue(headers, 'x-amz-acl');
  const granted = GRANT_HEADERS.filter(([name]) => headers[name] !== undefined);
  if (canned !== undefined && granted.length > 0) {
    throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  if (canned !== undefined) {
    if (!CANNED_ACLS.has(canned)) throw invalidArgument(undefined, 'x-amz-acl', canned);
    return { kind: 'canned', name: canned };
  }
  if (granted.length === 0) return undefined;
  const grants = granted.flatMap(([name, permission]) => parseGrantHeader(name, permission, headerValue(headers, name) ?? ''));
  if (grants.length > MAX_GRANTS) throw new S3Error('MalformedACLError', MALFORMED_ACL);
  return { kind: 'grants', grants };
}

/** The grants of an ACL source once the resource's owner and its bucket's owner are known. */
export function resolveAcl(source: AclSource, owner: string, bucketOwner: string): Grant[] {
  return source.kind === 'canned' ? cannedGrants(source.name, owner, bucketOwner) : source.grants;
}

/**
 * The ACL that PutObject, CreateMultipartUpload, CopyObject or CreateBucket headers ask for:
 * undefined when the request has no `x-amz-acl` or `x-amz-grant-*` header. Throws the S3
 * error for an unknown canned ACL, a malformed grant, or both kinds of header at once.
 * Arguments are canonical user ids (for CreateBucket, pass the creator twice).
 *
 * @example
 * const acl = aclFromHeaders(req.headers, canonicalUserId(ctx.accountId), canonicalUserId(bucket.owner));
 */
export function aclFromHeaders(
  headers: IncomingHttpHeaders,
  ownerCanonicalId: string,
  bucketOwnerCanonicalId: string,
): Grant[] | undefined {
  const source = aclSourceFromHeaders(headers);
  return source && resolveAcl(source, ownerCanonicalId, bucketOwnerCanonicalId);
}

/**
 * The ACL of a PutBucketAcl / PutObjectAcl: from the headers or from an AccessControlPolicy
 * body, exactly one of them.
 */
export function aclSourceFromRequest(headers: IncomingHttpHeaders, body: string): AclSource {
  const hasHeaders = headers['x-amz-acl'] !== undefined || GRANT_HEADERS.some(([name]) => headers[name] !== undefined);
  const hasBody = body.trim() !== '';
  if (hasHeaders && hasBody) throw new S3Error('UnexpectedContent');
  if (hasHeaders) return aclSourceFromHeaders(headers)!;
  if (!hasBody) throw new S3Error('MissingSecurityHeader', undefined, { fields: { MissingHeaderName: 'x-amz-acl' } });
  return { kind: 'grants', grants: parseAccessControlPolicy(body).grants };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  // Numeric character references (`&#10;`, which SDKs write for some characters) too.
  htmlEntities: true,
  isArray: (name) => name === 'Grant',
});

function malformed(): S3Error {
  return new S3Error('MalformedACLError', MALFORMED_ACL);
}

/** The child elements of an element (attributes and text dropped), or MalformedACLError. */
function children(node: unknown): Record<string, unknown> {
  if (node === '') return {};
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw malformed();
  return node as Record<string, unknown>;
}

function optionalText(node: unknown): string | undefined {
  if (node === undefined) return undefined;
  if (typeof node !== 'string') throw malformed();
  return node;
}

/**
 * Parses an AccessControlPolicy document (as GetBucketAcl/GetObjectAcl return it). Bad XML,
 * a missing Owner or AccessControlList, an unknown Permission or `xsi:type` are
 * MalformedACLError; a bad canonical id or group URI is InvalidArgument.
 */
export function parseAccessControlPolicy(xml: string): { owner: string; grants: Grant[] } {
  const doc = parseDocument(xml, parser, malformed);
  const root = children(doc);
  const names = Object.keys(root).filter((k) => k !== '?xml' && k !== '#text');
  if (names.length !== 1 || names[0] !== 'AccessControlPolicy') throw malformed();
  const policy = children(root.AccessControlPolicy);
  if (policy.Owner === undefined || policy.AccessControlList === undefined) throw malformed();
  const owner = optionalText(children(policy.Owner).ID);
  if (owner === undefined) throw malformed();
  if (!isCanonicalId(owner)) throw invalidArgument('Invalid id', 'CanonicalUser/ID', owner);
  const list = children(policy.AccessControlList).Grant ?? [];
  if (!Array.isArray(list)) throw malformed();
  if (list.length > MAX_GRANTS) throw malformed();
  const grants = list.map((g): Grant => {
    const grant = children(g);
    const permission = optionalText(grant.Permission);
    if (permission === undefined || !PERMISSIONS.has(permission) || grant.Grantee === undefined) throw malformed();
    return { grantee: granteeElement(children(grant.Grantee)), permission: permission as Permission };
  });
  return { owner: owner.toLowerCase(), grants };
}

function granteeElement(el: Record<string, unknown>): Grantee {
  switch (el['@_type']) {
    case 'CanonicalUser': {
      const id = optionalText(el.ID) ?? '';
      if (!isCanonicalId(id)) throw invalidArgument('Invalid id', 'CanonicalUser/ID', id);
      return { type: 'CanonicalUser', id: id.toLowerCase() };
    }
    case 'Group': {
      const uri = optionalText(el.URI) ?? '';
      if (!GROUP_URIS.has(uri)) throw invalidArgument('Invalid group uri', 'Group/URI', uri);
      return { type: 'Group', uri };
    }
    case 'AmazonCustomerByEmail':
      throw new S3Error('UnresolvableGrantByEmailAddress', undefined, {
        fields: { EmailAddress: optionalText(el.EmailAddress) ?? '' },
      });
    default:
      throw malformed();
  }
}

/**
 * The body of GetBucketAcl / GetObjectAcl (under the root `AccessControlPolicy`). A
 * CanonicalUser grantee who is the owner carries the owner's display name, if given.
 *
 * @example
 * sendXmlDocument(ctx.res, 'AccessControlPolicy', accessControlPolicyXml({ id, displayName }, grants));
 */
export function accessControlPolicyXml(owner: { id: string; displayName?: string }, grants: readonly Grant[]): XmlObject {
  const ownerEl: XmlObject = { ID: owner.id };
  if (owner.displayName !== undefined) ownerEl.DisplayName = owner.displayName;
  return {
    Owner: ownerEl,
    AccessControlList: {
      Grant: grants.map((g) => ({ Grantee: granteeXml(g.grantee, owner), Permission: g.permission })),
    },
  };
}

function granteeXml(g: Grantee, owner: { id: string; displayName?: string }): XmlObject {
  const el: XmlObject = { '@_xmlns:xsi': XSI_NS, '@_xsi:type': g.type };
  switch (g.type) {
    case 'CanonicalUser':
      el.ID = g.id;
      if (g.id === owner.id && owner.displayName !== undefined) el.DisplayName = owner.displayName;
      break;
    case 'Group':
      el.URI = g.uri;
      break;
    case 'AmazonCustomerByEmail':
      el.EmailAddress = g.email;
      break;
  }
  return el;
}
