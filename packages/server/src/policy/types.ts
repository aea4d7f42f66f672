/**
 * The shapes of the policy engine: a parsed policy document, the request it is judged against,
 * and the decision. Plain data, so a parsed policy can be logged, cached or compared.
 */

/** Where a policy is attached: a bucket, or a Multi-Region Access Point. */
export type PolicyKind = 'bucket' | 'mrap';

export type PolicyVersion = '2012-10-17' | '2008-10-17';

export type Effect = 'Allow' | 'Deny';

/** An `AWS` principal a policy names (never `*`, which is `PrincipalSet.everyone`). */
export type AwsPrincipal =
  | { kind: 'account'; account: string }
  | { kind: 'user'; account: string; arn: string; name: string }
  | { kind: 'role'; account: string; arn: string }
  | { kind: 'assumed-role'; account: string; arn: string };

/** The value of a `Principal` or `NotPrincipal` element. */
export interface PrincipalSet {
  /** `"*"` or `{"AWS": "*"}` (alone or in a list): every requester, anonymous ones included. */
  everyone: boolean;
  aws: AwsPrincipal[];
  canonicalUsers: string[];
  services: string[];
  /** Web identity / SAML providers. Meridian has no federation, so these match nobody. */
  federated: string[];
}

export type ConditionOperator =
  | 'StringEquals'
  | 'StringNotEquals'
  | 'StringEqualsIgnoreCase'
  | 'StringNotEqualsIgnoreCase'
  | 'StringLike'
  | 'StringNotLike'
  | 'NumericEquals'
  | 'NumericNotEquals'
  | 'NumericLessThan'
  | 'NumericLessThanEquals'
  | 'NumericGreaterThan'
  | 'NumericGreaterThanEquals'
  | 'DateEquals'
  | 'DateNotEquals'
  | 'DateLessThan'
  | 'DateLessThanEquals'
  | 'DateGreaterThan'
  | 'DateGreaterThanEquals'
  | 'Bool'
  | 'BinaryEquals'
  | 'IpAddress'
  | 'NotIpAddress'
  | 'ArnEquals'
  | 'ArnLike'
  | 'ArnNotEquals'
  | 'ArnNotLike'
  | 'Null';

/** One key test of a `Condition` block, e.g. `"StringLikeIfExists": {"s3:prefix": ["a/*"]}`. */
export interface Condition {
  /** The operator as written, e.g. `ForAnyValue:StringLikeIfExists`. */
  written: string;
  operator: ConditionOperator;
  qualifier?: 'ForAnyValue' | 'ForAllValues';
  ifExists: boolean;
  /** The key as written. Keys compare without regard to case (see `normalizeKey`). */
  key: string;
  /** The values as strings (JSON numbers and booleans are written out). */
  values: string[];
}

export interface Statement {
  /** Position in the policy's `Statement` list. */
  index: number;
  sid?: string;
  effect: Effect;
  principal: PrincipalSet;
  /** `NotPrincipal`: the statement applies to everyone the set does not name. */
  notPrincipal: boolean;
  actions: string[];
  notAction: boolean;
  resources: string[];
  notResource: boolean;
  /** All must hold (AND); the values of one condition are alternatives (OR). */
  conditions: Condition[];
}

export interface Policy {
  kind: PolicyKind;
  version: PolicyVersion;
  id?: string;
  statements: Statement[];
}

/** Who is asking. An IAM user of an account is `{ type: 'account', account, user }`. */
export interface RequestPrincipal {
  type: 'anonymous' | 'account' | 'service';
  /** 12-digit account id (type `account`). */
  account?: string;
  /** IAM user name within `account`; absent for the account itself (its root). */
  user?: string;
  /** The principal's ARN; derived from account and user when absent. */
  arn?: string;
  /** Canonical user id, matched by `{"CanonicalUser": ...}` principals. */
  canonicalId?: string;
  /** Service principal name, e.g. `s3.amazonaws.com` (type `service`). */
  service?: string;
}

/** A context key's value. A list is a multi-valued key; an empty list is an empty set. */
export type ContextValue = string | number | boolean | Date | readonly string[];

export interface RequestContext {
  principal: RequestPrincipal;
  /** e.g. `s3:GetObject`. Compared without regard to case. */
  action: string;
  /** e.g. `arn:aws:s3:::bucket/key`. Compared with regard to case. */
  resource: string;
  /**
   * Condition keys (names in any case): `aws:SourceIp`, `aws:SecureTransport`, `s3:prefix`,
   * `s3:ExistingObjectTag/<key>`, ... Keys derived from `principal` and `now`
   * (`aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:username`, `aws:userid`,
   * `aws:PrincipalType`, `aws:CurrentTime`, `aws:EpochTime`) are added unless given here.
   */
  keys?: Readonly<Record<string, ContextValue | undefined>>;
  /** The time of the request, for `aws:CurrentTime` and `aws:EpochTime`. */
  now?: Date;
}

export type Decision = 'Allow' | 'Deny' | 'ImplicitDeny';

/** Which statement decided, for tests and logs. */
export interface Evaluation {
  decision: Decision;
  /** The deciding statement; absent for `ImplicitDeny`. */
  by?: { policy: number; statement: number; sid?: string };
}
