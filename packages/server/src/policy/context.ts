/**
 * The request context: every condition key of a request as a list of strings, looked up by a
 * case-insensitive key name. Keys about the requester and the time are derived from the
 * request unless the caller gave them.
 */
import { requestPrincipalArn } from './principal.ts';
import type { ContextValue, RequestContext } from './types.ts';

/** Key name → values (one for a single-valued key, any number for a multi-valued one). */
export type ContextKeys = ReadonlyMap<string, readonly string[]>;

/**
 * The form a key is looked up by. IAM key names are case-insensitive; the part after the first
 * `/` of a tag key (`s3:ExistingObjectTag/<tag-key>`) names an S3 tag, whose keys are
 * case-sensitive, so only the part before it is folded.
 *
 * @example
 * normalizeKey('AWS:SourceIp'); // 'aws:sourceip'
 * normalizeKey('S3:ExistingObjectTag/Team'); // 's3:existingobjecttag/Team'
 */
export function normalizeKey(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key.toLowerCase() : key.slice(0, slash).toLowerCase() + key.slice(slash);
}

/** The context keys of a request, derived ones included. */
export function contextKeys(request: RequestContext): ContextKeys {
  const keys = new Map<string, readonly string[]>();
  const set = (key: string, value: ContextValue | undefined) => {
    if (value !== undefined) keys.set(normalizeKey(key), valueStrings(value));
  };
  const p = request.principal;
  if (p.type === 'anonymous') {
    set('aws:PrincipalType', 'Anonymous');
  } else if (p.type === 'account') {
    set('aws:PrincipalType', p.user ? 'User' : 'Account');
    set('aws:PrincipalAccount', p.account);
    set('aws:PrincipalArn', requestPrincipalArn(p));
    set('aws:username', p.user);
    // For an account's root, IAM's unique id is the account id; a user's is not derivable.
    if (!p.user) set('aws:userid', p.account);
    set('aws:PrincipalIsAWSService', false);
  } else {
    set('aws:PrincipalServiceName', p.service);
    set('aws:PrincipalIsAWSService', true);
  }
  if (request.now) {
    set('aws:CurrentTime', request.now);
    set('aws:EpochTime', String(Math.floor(request.now.getTime() / 1000)));
  }
  for (const [key, value] of Object.entries(request.keys ?? {})) set(key, value);
  return keys;
}

function valueStrings(value: ContextValue): readonly string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (value instanceof Date) return [value.toISOString()];
  return [...value];
}
