/**
 * Judging a request against policies, in AWS's order: an explicit Deny in any statement of
 * any policy wins; otherwise an Allow anywhere allows; otherwise the request is implicitly
 * denied. Statement order never matters.
 *
 * A statement applies when its principal, action, resource and every condition match:
 * - `Principal` names the requester, or `NotPrincipal` does not;
 * - `Action` names the action, or `NotAction` does not (case-insensitive, `*` and `?`);
 * - `Resource` names the resource, or `NotResource` does not (case-sensitive, `*` crosses `/`);
 * - every condition holds (see `conditions.ts`).
 */
import { conditionHolds } from './conditions.ts';
import { contextKeys, type ContextKeys } from './context.ts';
import { principalMatches } from './principal.ts';
import { resolvePattern } from './variables.ts';
import { matchGlob, wildcardMatch } from './wildcard.ts';
import type { Decision, Evaluation, Policy, RequestContext, Statement } from './types.ts';

/**
 * The decision for a request: `Deny` (explicitly denied), `Allow`, or `ImplicitDeny` (no
 * statement allows it).
 *
 * @example
 * evaluate([policy], {
 *   principal: { type: 'anonymous' },
 *   action: 's3:GetObject',
 *   resource: 'arn:aws:s3:::photos/cat.jpg',
 *   keys: { 'aws:SourceIp': '203.0.113.7', 'aws:SecureTransport': true },
 * }); // 'Allow'
 */
export function evaluate(policies: readonly Policy[], request: RequestContext): Decision {
  return explain(policies, request).decision;
}

/**
 * `evaluate`, and which statement decided: the first applicable Deny, else the first
 * applicable Allow (positions are indexes into `policies` and each policy's statements).
 *
 * @example
 * explain([policy], request); // { decision: 'Deny', by: { policy: 0, statement: 2, sid: 'NoHttp' } }
 */
export function explain(policies: readonly Policy[], request: RequestContext): Evaluation {
  const keys = contextKeys(request);
  let allow: Evaluation | undefined;
  for (const [p, policy] of policies.entries()) {
    for (const statement of policy.statements) {
      if (!statementApplies(policy, statement, request, keys)) continue;
      const by = { policy: p, statement: statement.index, ...(statement.sid !== undefined ? { sid: statement.sid } : {}) };
      if (statement.effect === 'Deny') return { decision: 'Deny', by };
      allow ??= { decision: 'Allow', by };
    }
  }
  return allow ?? { decision: 'ImplicitDeny' };
}

/** Whether one statement applies to a request (its effect aside). */
export function statementApplies(
  policy: Policy,
  statement: Statement,
  request: RequestContext,
  keys: ContextKeys = contextKeys(request),
): boolean {
  const variables = policy.version === '2012-10-17';
  if (principalMatches(statement.principal, request.principal) === statement.notPrincipal) return false;
  const action = statement.actions.some((pattern) => pattern === '*' || wildcardMatch(pattern, request.action, true));
  if (action === statement.notAction) return false;
  const resource = statement.resources.some((pattern) => {
    const parts = resolvePattern(pattern, variables, keys);
    return parts !== undefined && matchGlob(parts, request.resource);
  });
  if (resource === statement.notResource) return false;
  return statement.conditions.every((c) => conditionHolds(c, variables, keys));
}
