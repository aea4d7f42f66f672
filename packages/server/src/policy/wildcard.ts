/**
 * Wildcard matching as the policy language has it: `*` stands for any run of characters (the
 * empty one, `/` and `:` included) and `?` for exactly one character. Characters are Unicode
 * code points, so `?` matches one emoji, not half of one.
 *
 * Patterns are first split into parts so that text which must be taken literally (the value a
 * policy variable resolves to, `${*}`) can sit next to wildcards without being one.
 */

export type GlobPart = { kind: 'text'; text: string } | { kind: 'star' } | { kind: 'one' };

const STAR = -1;
const ONE = -2;
const COLON = 0x3a;

/** The parts of a pattern in which every `*` and `?` is a wildcard. */
export function globParts(pattern: string): GlobPart[] {
  const parts: GlobPart[] = [];
  let text = '';
  for (const ch of pattern) {
    if (ch === '*' || ch === '?') {
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push(ch === '*' ? { kind: 'star' } : { kind: 'one' });
    } else {
      text += ch;
    }
  }
  if (text) parts.push({ kind: 'text', text });
  return parts;
}

/**
 * Whether `subject` matches `pattern` (`*` and `?` wildcards).
 *
 * @example
 * wildcardMatch('s3:Get*', 's3:getobject', true); // true
 * wildcardMatch('arn:aws:s3:::b/*', 'arn:aws:s3:::b/a/b'); // true
 */
export function wildcardMatch(pattern: string, subject: string, ignoreCase = false): boolean {
  return matchGlob(globParts(pattern), subject, ignoreCase);
}

/** Whether `subject` matches the pattern made of `parts`. */
export function matchGlob(parts: readonly GlobPart[], subject: string, ignoreCase = false): boolean {
  return matchUnits(units(parts, ignoreCase), codePoints(ignoreCase ? subject.toLowerCase() : subject));
}

/**
 * ARN matching as `ArnLike`/`ArnEquals` do it: each of the six colon-separated components is
 * matched on its own, so a `*` never reaches across a colon except inside the last one (the
 * resource, which may itself hold colons). A pattern that is just `*` matches any ARN.
 */
export function matchArn(parts: readonly GlobPart[], subject: string): boolean {
  const pattern = units(parts, false);
  if (pattern.length === 1 && pattern[0] === STAR) return true;
  const p = splitComponents(pattern);
  const s = splitComponents(codePoints(subject));
  if (p.length !== 6 || s.length !== 6) return false;
  return p.every((component, i) => matchUnits(component, s[i]));
}

function splitComponents(list: number[]): number[][] {
  const out: number[][] = [[]];
  for (const unit of list) {
    if (unit === COLON && out.length < 6) out.push([]);
    else out[out.length - 1].push(unit);
  }
  return out;
}

function units(parts: readonly GlobPart[], ignoreCase: boolean): number[] {
  const out: number[] = [];
  for (const part of parts) {
    if (part.kind === 'star') {
      if (out[out.length - 1] !== STAR) out.push(STAR);
    } else if (part.kind === 'one') {
      out.push(ONE);
    } else {
      out.push(...codePoints(ignoreCase ? part.text.toLowerCase() : part.text));
    }
  }
  return out;
}

function codePoints(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(ch.codePointAt(0) ?? 0);
  return out;
}

/** Greedy match with backtracking to the last `*`: linear space, O(n·m) time at worst. */
function matchUnits(pattern: readonly number[], subject: readonly number[]): boolean {
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < subject.length) {
    const unit = pattern[pi];
    if (pi < pattern.length && (unit === ONE || unit === subject[si])) {
      pi++;
      si++;
    } else if (pi < pattern.length && unit === STAR) {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < pattern.length && pattern[pi] === STAR) pi++;
  return pi === pattern.length;
}
