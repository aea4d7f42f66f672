/**
 * MRAP access point policies: just enough of the IAM policy grammar to reject what is not a
 * policy and to say whether one is public.
 */

export type PolicyCheck = { ok: true } | { ok: false; message: string };

const VERSIONS = new Set(['2012-10-17', '2008-10-17']);

/**
 * Whether `text` is a policy document: a JSON object with a known `Version` and a `Statement`
 * (one statement object or a non-empty list of them), each with `Effect` Allow or Deny and
 * an `Action` or `NotAction`.
 *
 * @example
 * checkPolicy('{"Version":"2012-10-17","Statement":[]}'); // { ok: false, message: '...' }
 */
export function checkPolicy(text: string): PolicyCheck {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, message: 'Policies must be valid JSON.' };
  }
  if (!isObject(doc)) return { ok: false, message: 'Policies must be a JSON object.' };
  if (typeof doc.Version !== 'string' || !VERSIONS.has(doc.Version)) {
    return { ok: false, message: 'The policy must contain a valid version string' };
  }
  const statements = statementList(doc.Statement);
  if (!statements || statements.length === 0) return { ok: false, message: 'Missing required field Statement' };
  for (const s of statements) {
    if (!isObject(s)) return { ok: false, message: 'Each Statement must be a JSON object' };
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return { ok: false, message: 'Invalid effect in a Statement' };
    if (s.Action === undefined && s.NotAction === undefined) {
      return { ok: false, message: 'Missing required field Action' };
    }
  }
  return { ok: true };
}

/**
 * Whether a policy grants access to everyone. Deliberately simple: it is public when some
 * statement allows with the principal `"*"` or `{"AWS": "*"}` (alone or in a list) and has no
 * `Condition`. A statement with any condition is treated as not public; AWS's finer analysis of
 * conditions (fixed source VPC, account, ...) is not reproduced. A document that is not a valid
 * policy is not public.
 *
 * @example
 * policyIsPublic('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}'); // true
 */
export function policyIsPublic(text: string | undefined): boolean {
  if (text === undefined || !checkPolicy(text).ok) return false;
  const doc = JSON.parse(text) as Record<string, unknown>;
  return (statementList(doc.Statement) ?? []).some(
    (s) => isObject(s) && s.Effect === 'Allow' && s.Condition === undefined && principalIsEveryone(s.Principal),
  );
}

function principalIsEveryone(principal: unknown): boolean {
  if (principal === '*') return true;
  if (!isObject(principal)) return false;
  const aws = principal.AWS;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
}

function statementList(statement: unknown): unknown[] | undefined {
  if (Array.isArray(statement)) return statement;
  if (isObject(statement)) return [statement];
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
