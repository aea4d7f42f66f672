/**
 * Condition operators: how their names are read, which values they accept, and how one
 * condition is judged against the request context.
 *
 * The rules, after IAM's documentation of condition operators and set qualifiers:
 * - A key the request does not have fails a positive operator and satisfies a negated one
 *   (`StringNotEquals`, `StringNotLike`, `NumericNotEquals`, `DateNotEquals`, `NotIpAddress`,
 *   `ArnNotEquals`, `ArnNotLike`).
 * - `...IfExists`: a missing key satisfies the condition.
 * - `Null`: `"true"` holds when the key is missing, `"false"` when it is present.
 * - The policy's values are alternatives: a positive operator holds if a request value matches
 *   any of them; a negated operator holds if no request value matches any of them.
 * - `ForAnyValue:` holds if some request value passes (a missing or empty key: false);
 *   `ForAllValues:` if every request value passes (a missing or empty key: true). Under a
 *   negated operator a request value passes when it matches none of the policy's values.
 * - Variables are replaced in string, ARN and Bool values only.
 */
import { cidrContains, parseCidr, parseIp } from './cidr.ts';
import { normalizeKey, type ContextKeys } from './context.ts';
import { resolvePattern, resolveString } from './variables.ts';
import { matchArn, matchGlob } from './wildcard.ts';
import type { Condition, ConditionOperator } from './types.ts';

type Family = 'string' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';

interface OperatorSpec {
  family: Family;
  negated: boolean;
  /** Whether one request value matches one policy value (before negation). */
  test: (requestValue: string, policyValue: string, variables: boolean, keys: ContextKeys) => boolean;
}

const same = (a: string, b: string) => a === b;
const sameIgnoringCase = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function exact(compare: (a: string, b: string) => boolean): OperatorSpec['test'] {
  return (value, policy, variables, keys) => {
    const resolved = resolveString(policy, variables, keys);
    return resolved !== undefined && compare(value, resolved);
  };
}

const like: OperatorSpec['test'] = (value, policy, variables, keys) => {
  const parts = resolvePattern(policy, variables, keys);
  return parts !== undefined && matchGlob(parts, value);
};

const arnLike: OperatorSpec['test'] = (value, policy, variables, keys) => {
  const parts = resolvePattern(policy, variables, keys);
  return parts !== undefined && matchArn(parts, value);
};

function numeric(compare: (a: number, b: number) => boolean): OperatorSpec['test'] {
  return (value, policy) => {
    const a = parseNumber(value);
    const b = parseNumber(policy);
    return a !== undefined && b !== undefined && compare(a, b);
  };
}

function date(compare: (a: number, b: number) => boolean): OperatorSpec['test'] {
  return (value, policy) => {
    const a = parseDate(value);
    const b = parseDate(policy);
    return a !== undefined && b !== undefined && compare(a, b);
  };
}

const bool: OperatorSpec['test'] = (value, policy, variables, keys) => {
  const resolved = resolveString(policy, variables, keys);
  return resolved !== undefined && value.toLowerCase() === resolved.toLowerCase();
};

const inCidr: OperatorSpec['test'] = (value, policy) => {
  const ip = parseIp(value);
  const cidr = parseCidr(policy);
  return ip !== undefined && cidr !== undefined && cidrContains(cidr, ip);
};

const eq = (a: number, b: number) => a === b;
const lt = (a: number, b: number) => a < b;
const le = (a: number, b: number) => a <= b;
const gt = (a: number, b: number) => a > b;
const ge = (a: number, b: number) => a >= b;

export const OPERATORS: Readonly<Record<ConditionOperator, OperatorSpec>> = {
  StringEquals: { family: 'string', negated: false, test: exact(same) },
  StringNotEquals: { family: 'string', negated: true, test: exact(same) },
  StringEqualsIgnoreCase: { family: 'string', negated: false, test: exact(sameIgnoringCase) },
  StringNotEqualsIgnoreCase: { family: 'string', negated: true, test: exact(sameIgnoringCase) },
  StringLike: { family: 'string', negated: false, test: like },
  StringNotLike: { family: 'string', negated: true, test: like },
  NumericEquals: { family: 'numeric', negated: false, test: numeric(eq) },
  NumericNotEquals: { family: 'numeric', negated: true, test: numeric(eq) },
  NumericLessThan: { family: 'numeric', negated: false, test: numeric(lt) },
  NumericLessThanEquals: { family: 'numeric', negated: false, test: numeric(le) },
  NumericGreaterThan: { family: 'numeric', negated: false, test: numeric(gt) },
  NumericGreaterThanEquals: { family: 'numeric', negated: false, test: numeric(ge) },
  DateEquals: { family: 'date', negated: false, test: date(eq) },
  DateNotEquals: { family: 'date', negated: true, test: date(eq) },
  DateLessThan: { family: 'date', negated: false, test: date(lt) },
  DateLessThanEquals: { family: 'date', negated: false, test: date(le) },
  DateGreaterThan: { family: 'date', negated: false, test: date(gt) },
  DateGreaterThanEquals: { family: 'date', negated: false, test: date(ge) },
  Bool: { family: 'bool', negated: false, test: bool },
  BinaryEquals: { family: 'binary', negated: false, test: (value, policy) => value === policy },
  IpAddress: { family: 'ip', negated: false, test: inCidr },
  NotIpAddress: { family: 'ip', negated: true, test: inCidr },
  ArnEquals: { family: 'arn', negated: false, test: arnLike },
  ArnLike: { family: 'arn', negated: false, test: arnLike },
  ArnNotEquals: { family: 'arn', negated: true, test: arnLike },
  ArnNotLike: { family: 'arn', negated: true, test: arnLike },
  Null: { family: 'null', negated: false, test: () => false },
};

export interface ParsedOperator {
  operator: ConditionOperator;
  qualifier?: 'ForAnyValue' | 'ForAllValues';
  ifExists: boolean;
}

/**
 * Reads an operator name such as `ForAnyValue:StringLikeIfExists`. Names are exact (case
 * matters, as in every policy element name); `Null` takes neither `IfExists` nor a qualifier.
 *
 * @example
 * parseOperator('StringLikeIfExists'); // { operator: 'StringLike', ifExists: true }
 * parseOperator('stringequals'); // undefined
 */
export function parseOperator(written: string): ParsedOperator | undefined {
  let rest = written;
  let qualifier: ParsedOperator['qualifier'];
  for (const q of ['ForAnyValue', 'ForAllValues'] as const) {
    if (rest.startsWith(`${q}:`)) {
      qualifier = q;
      rest = rest.slice(q.length + 1);
    }
  }
  let ifExists = false;
  if (rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (!Object.hasOwn(OPERATORS, rest)) return undefined;
  const operator = rest as ConditionOperator;
  if (operator === 'Null' && (ifExists || qualifier)) return undefined;
  return { operator, ifExists, ...(qualifier ? { qualifier } : {}) };
}

/** Why a value does not suit its operator, or undefined if it does. */
export function invalidValue(operator: ConditionOperator, value: string): string | undefined {
  switch (OPERATORS[operator].family) {
    case 'numeric':
      return parseNumber(value) === undefined ? `Invalid value in Conditions for operator ${operator}` : undefined;
    case 'date':
      return parseDate(value) === undefined ? `Invalid value in Conditions for operator ${operator}` : undefined;
    case 'ip':
      return parseCidr(value) === undefined ? 'Invalid IP address in Conditions' : undefined;
    case 'null':
      return /^(true|false)$/i.test(value) ? undefined : `Invalid value in Conditions for operator ${operator}`;
    case 'bool':
      return /^(true|false)$/i.test(value) || value.includes('${')
        ? undefined
        : `Invalid value in Conditions for operator ${operator}`;
    default:
      return undefined;
  }
}

/**
 * Whether one condition holds for a request.
 *
 * @example
 * conditionHolds(condition, '2012-10-17' === policy.version, contextKeys(request));
 */
export function conditionHolds(c: Condition, variables: boolean, keys: ContextKeys): boolean {
  const spec = OPERATORS[c.operator];
  const present = keys.get(normalizeKey(c.key));
  const missing = present === undefined || present.length === 0;
  if (c.operator === 'Null') return c.values.some((v) => (v.toLowerCase() === 'true') === missing);
  if (missing) {
    if (c.ifExists || c.qualifier === 'ForAllValues') return true;
    if (c.qualifier === 'ForAnyValue') return false;
    return spec.negated;
  }
  const matches = (value: string) => c.values.some((p) => spec.test(value, p, variables, keys));
  const passes = (value: string) => (spec.negated ? !matches(value) : matches(value));
  if (c.qualifier === 'ForAllValues') return present.every(passes);
  if (c.qualifier === 'ForAnyValue') return present.some(passes);
  return spec.negated ? !present.some(matches) : present.some(matches);
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal number, or undefined. (Not `Number()`, which reads '', '0x10' and ' 1 '.) */
export function parseNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

// W3C's profile of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, and a time with minutes, optional
// seconds and fraction, and a zone (a time without a zone names no instant).
const ISO_DATE = /^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?)?)?$/;

/**
 * Milliseconds since the epoch of an ISO 8601 date or of epoch seconds, or undefined.
 *
 * @example
 * parseDate('2020-01-01T00:00:00Z'); // 1577836800000
 * parseDate('1577836800'); // 1577836800000
 */
export function parseDate(text: string): number | undefined {
  // Four digits are a year (W3C's `YYYY`); any other run of digits is epoch seconds.
  if (ISO_DATE.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return /^\d{1,12}$/.test(text) ? Number(text) * 1000 : undefined;
}
