/**
 * Whether a policy is "public", as S3 judges it for GetBucketPolicyStatus and Block Public
 * Access ("The meaning of public" in the S3 User Guide).
 *
 * S3 starts by assuming a policy is public and looks for reasons it is not. A statement is
 * public when it allows someone not fixed by the policy (`"*"`, `{"AWS": "*"}`, a federated
 * identity provider) and none of its conditions confines the request to fixed values (no
 * wildcard, no policy variable) of:
 * - a principal (`aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:PrincipalOrgID`);
 * - `aws:SourceIp` CIDRs no broader than /8 (IPv4) or /32 (IPv6);
 * - `aws:SourceArn`, `aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceOwner`,
 *   `aws:SourceAccount`, `s3:x-amz-server-side-encryption-aws-kms-key-id`, `aws:userid`,
 *   `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`.
 * A bucket policy may wildcard the access point name in `s3:DataAccessPointArn` as long as the
 * account is fixed; an access point policy may not. A condition a request without the key
 * satisfies (`...IfExists`, `ForAllValues:`) or a negated operator confines nothing. A Deny
 * grants nothing, so never makes a policy public.
 */
import { parseCidr } from './cidr.ts';
import type { Condition, Policy, PolicyKind, Statement } from './types.ts';

const FIXING_KEYS = new Set(
  [
    'aws:PrincipalAccount',
    'aws:PrincipalArn',
    'aws:PrincipalOrgID',
    'aws:SourceArn',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:SourceOwner',
    'aws:SourceAccount',
    's3:x-amz-server-side-encryption-aws-kms-key-id',
    'aws:userid',
    's3:DataAccessPointArn',
    's3:DataAccessPointAccount',
  ].map((k) => k.toLowerCase()),
);

const EQUALITY = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike']);

/** An access point ARN whose account is fixed: `arn:aws:s3:<region>:<account>:accesspoint/...`. */
const ACCOUNT_FIXED_ACCESS_POINT = /^arn:aws:s3:[a-z0-9-]+:\d{12}:accesspoint\/[^$]*$/;

/**
 * Whether the policy grants public access.
 *
 * @example
 * isPublicPolicy(parsePolicy(text, { kind: 'bucket' })); // true for Principal "*" without a fixing condition
 */
export function isPublicPolicy(policy: Policy): boolean {
  return policy.statements.some((s) => isPublicStatement(s, policy.kind));
}

/** Whether one statement grants public access (see the module comment). */
export function isPublicStatement(statement: Statement, kind: PolicyKind): boolean {
  if (statement.effect !== 'Allow') return false;
  const p = statement.principal;
  const untrusted = statement.notPrincipal || p.everyone || p.federated.length > 0;
  return untrusted && !statement.conditions.some((c) => confines(c, kind));
}

function confines(c: Condition, kind: PolicyKind): boolean {
  if (c.ifExists || c.qualifier === 'ForAllValues' || c.values.length === 0) return false;
  const key = c.key.toLowerCase();
  if (key === 'aws:sourceip') {
    // AWS excepts RFC 1918 private ranges from the /8 rule, but none of them is broader than /8.
    return (
      c.operator === 'IpAddress' &&
      c.values.every((v) => {
        const cidr = parseCidr(v);
        return cidr !== undefined && cidr.prefix >= (cidr.family === 4 ? 8 : 32);
      })
    );
  }
  if (!FIXING_KEYS.has(key) || !EQUALITY.has(c.operator)) return false;
  return c.values.every((v) => {
    if (!/[*?]|\$\{/.test(v)) return true;
    return kind === 'bucket' && key === 's3:dataaccesspointarn' && ACCOUNT_FIXED_ACCESS_POINT.test(v);
  });
}
