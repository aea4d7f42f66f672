/**
 * The policy engine: bucket and Multi-Region Access Point policies read, judged and classified
 * as S3 does. Pure functions over plain data; nothing here touches requests, stores or clocks.
 */
export { parsePolicy, MAX_POLICY_BYTES, MAX_POLICY_TEXT, MESSAGES, type ParseOptions } from './parse.ts';
export { evaluate, explain, statementApplies } from './evaluate.ts';
export { isPublicPolicy, isPublicStatement } from './public.ts';
export {
  accountOfPrincipal,
  accountRootArn,
  isAccountId,
  parseAwsPrincipal,
  principalMatches,
  requestPrincipalArn,
} from './principal.ts';
export { S3_ACTIONS, actionsNamedBy, type ActionKind, type S3Action } from './actions.ts';
export { wildcardMatch } from './wildcard.ts';
export type * from './types.ts';
