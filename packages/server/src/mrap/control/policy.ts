/**
 * Multi-Region Access Point policies through the policy engine (packages/server/src/policy):
 * the same language, checks and notion of "public" as bucket policies, with the access
 * point's ARN as the resource.
 */
import type { PublicAccessBlockSettings } from '../../catalog/catalog.ts';
import { S3Error } from '../../core/errors.ts';
import { isPublicPolicy, parsePolicy, type Policy } from '../../policy/index.ts';

export type PolicyCheck = { ok: true; policy: Policy } | { ok: false; message: string };

/** Whether `text` is a valid policy for this access point, with the engine's reason if not. */
export function checkPolicy(text: string, arn: string): PolicyCheck {
  try {
    return { ok: true, policy: parsePolicy(text, { kind: 'mrap', resourceArns: [arn] }) };
  } catch (err) {
    if (err instanceof S3Error) return { ok: false, message: err.message };
    throw err;
  }
}

/** Whether a stored policy grants access to the public (AWS's "meaning of public"). */
export function policyIsPublic(text: string | undefined, arn: string): boolean {
  if (text === undefined) return false;
  const check = checkPolicy(text, arn);
  return check.ok && isPublicPolicy(check.policy);
}

/**
 * Block Public Access on PutMultiRegionAccessPointPolicy: a public policy is refused while
 * BlockPublicPolicy is on for the access point (its own settings, fixed when it was created;
 * on by default) or for the account that owns it (S3 Control PutPublicAccessBlock).
 */
export function publicPolicyBlocked(
  policy: Policy,
  accessPoint: PublicAccessBlockSettings,
  account: PublicAccessBlockSettings | undefined,
): boolean {
  return (accessPoint.blockPublicPolicy || account?.blockPublicPolicy === true) && isPublicPolicy(policy);
}
