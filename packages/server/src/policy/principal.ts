/**
 * Principals: how an account id maps to its root ARN, how the `AWS` values of a policy are
 * read, and whether a `Principal` element names the requester. An account principal (its id or
 * `arn:aws:iam::<id>:root`, which IAM treats alike) names every identity of that account; a user
 * ARN names that user only.
 */
import type { AwsPrincipal, PrincipalSet, RequestPrincipal } from './types.ts';

const ACCOUNT_ID = /^\d{12}$/;
const ROOT = /^arn:aws:iam::(\d{12}):root$/;
// IAM names: letters, digits and +=,.@_- ; paths are /-separated segments of printable ASCII.
const USER = /^arn:aws:iam::(\d{12}):user\/((?:[\x21-\x2e\x30-\x7e]+\/)*)([\w+=,.@-]{1,64})$/;
const ROLE = /^arn:aws:iam::(\d{12}):role\/(?:[\x21-\x2e\x30-\x7e]+\/)*[\w+=,.@-]{1,64}$/;
const ASSUMED_ROLE = /^arn:aws:sts::(\d{12}):assumed-role\/[\w+=,.@-]{1,64}\/[\w+=,.@-]{2,64}$/;

/** Whether `value` is a 12-digit account id. */
export function isAccountId(value: string): boolean {
  return ACCOUNT_ID.test(value);
}

/**
 * The ARN that names a whole account in a policy.
 *
 * @example
 * accountRootArn('111122223333'); // 'arn:aws:iam::111122223333:root'
 */
export function accountRootArn(account: string): string {
  return `arn:aws:iam::${account}:root`;
}

/**
 * The account a principal value names as a whole: a 12-digit id or a root ARN.
 *
 * @example
 * accountOfPrincipal('arn:aws:iam::111122223333:root'); // '111122223333'
 * accountOfPrincipal('arn:aws:iam::111122223333:user/ana'); // undefined
 */
export function accountOfPrincipal(value: string): string | undefined {
  if (isAccountId(value)) return value;
  return ROOT.exec(value)?.[1];
}

/**
 * One value of an `AWS` principal, or undefined if it is not one. Wildcards other than a lone
 * `*` (handled by the caller) are not allowed in principals.
 *
 * @example
 * parseAwsPrincipal('arn:aws:iam::111122223333:user/team/ana');
 * // { kind: 'user', account: '111122223333', arn: '...', name: 'ana' }
 */
export function parseAwsPrincipal(value: string): AwsPrincipal | undefined {
  const account = accountOfPrincipal(value);
  if (account) return { kind: 'account', account };
  const user = USER.exec(value);
  if (user) return { kind: 'user', account: user[1], arn: value, name: user[3] };
  const role = ROLE.exec(value);
  if (role) return { kind: 'role', account: role[1], arn: value };
  const assumed = ASSUMED_ROLE.exec(value);
  if (assumed) return { kind: 'assumed-role', account: assumed[1], arn: value };
  return undefined;
}

/**
 * The requester's ARN: the one given, else the root or user ARN of its account.
 *
 * @example
 * requestPrincipalArn({ type: 'account', account: '111122223333', user: 'ana' });
 * // 'arn:aws:iam::111122223333:user/ana'
 */
export function requestPrincipalArn(p: RequestPrincipal): string | undefined {
  if (p.arn) return p.arn;
  if (p.type !== 'account' || !p.account) return undefined;
  return p.user ? `arn:aws:iam::${p.account}:user/${p.user}` : accountRootArn(p.account);
}

/**
 * Whether a principal set names the requester. `*` names everyone, the anonymous requester
 * included; an account names all of its identities; a user, role or session names itself.
 *
 * @example
 * principalMatches(set, { type: 'account', account: '111122223333', user: 'ana' });
 */
export function principalMatches(set: PrincipalSet, p: RequestPrincipal): boolean {
  if (set.everyone) return true;
  if (p.type === 'service') return p.service !== undefined && set.services.includes(p.service);
  if (p.canonicalId !== undefined && set.canonicalUsers.includes(p.canonicalId)) return true;
  if (p.type !== 'account' || !p.account) return false;
  const arn = requestPrincipalArn(p);
  return set.aws.some((named) => {
    if (named.kind === 'account') return named.account === p.account;
    if (named.arn === arn) return true;
    // A user named by ARN (maybe with a path) matches a requester known only by name.
    return named.kind === 'user' && p.arn === undefined && named.account === p.account && named.name === p.user;
  });
}
