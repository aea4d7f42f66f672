/**
 * Policy variables (`${aws:username}`, `${aws:PrincipalAccount}`, `${s3:prefix, 'default'}`,
 * and the literals `${*}`, `${?}`, `${$}`) in resources and string/ARN/Bool condition values.
 * Only `Version: 2012-10-17` has variables; under `2008-10-17` the text is literal. A variable
 * stands for its key's single value taken literally: a `*` in a user name is not a wildcard. A
 * variable the request has no single value for, and no default, makes its pattern match
 * nothing.
 */
import { normalizeKey, type ContextKeys } from './context.ts';
import { globParts, type GlobPart } from './wildcard.ts';

type Piece =
  | { kind: 'pattern'; text: string }
  | { kind: 'literal'; text: string }
  | { kind: 'variable'; key: string; fallback?: string };

const SPECIAL: Record<string, string> = { '*': '*', '?': '?', $: '$' };
const WITH_DEFAULT = /^(.+?)\s*,\s*'(.*)'$/s;

function pieces(text: string, variables: boolean): Piece[] {
  if (!variables) return [{ kind: 'pattern', text }];
  const out: Piece[] = [];
  let rest = text;
  for (;;) {
    const open = rest.indexOf('${');
    const close = open < 0 ? -1 : rest.indexOf('}', open + 2);
    if (close < 0) break;
    if (open > 0) out.push({ kind: 'pattern', text: rest.slice(0, open) });
    const inner = rest.slice(open + 2, close).trim();
    const special = SPECIAL[inner];
    const withDefault = WITH_DEFAULT.exec(inner);
    if (special !== undefined) out.push({ kind: 'literal', text: special });
    else if (withDefault) out.push({ kind: 'variable', key: withDefault[1], fallback: withDefault[2] });
    else out.push({ kind: 'variable', key: inner });
    rest = rest.slice(close + 1);
  }
  if (rest) out.push({ kind: 'pattern', text: rest });
  return out;
}

function resolve(piece: Piece & { kind: 'variable' }, keys: ContextKeys): string | undefined {
  const values = keys.get(normalizeKey(piece.key));
  if (values && values.length === 1) return values[0];
  return piece.fallback;
}

/** Whether `text` holds a policy variable (other than the `${*}`-style literals). */
export function hasVariable(text: string): boolean {
  return pieces(text, true).some((p) => p.kind === 'variable');
}

/**
 * A wildcard pattern with its variables replaced by literal text, or undefined when a variable
 * cannot be resolved.
 *
 * @example
 * resolvePattern('home/${aws:username}/*', true, keys); // [text 'home/', text 'ana', text '/', star]
 */
export function resolvePattern(text: string, variables: boolean, keys: ContextKeys): GlobPart[] | undefined {
  const out: GlobPart[] = [];
  for (const piece of pieces(text, variables)) {
    if (piece.kind === 'pattern') {
      out.push(...globParts(piece.text));
      continue;
    }
    const value = piece.kind === 'literal' ? piece.text : resolve(piece, keys);
    if (value === undefined) return undefined;
    if (value) out.push({ kind: 'text', text: value });
  }
  return out;
}

/** A string with its variables replaced, or undefined when a variable cannot be resolved. */
export function resolveString(text: string, variables: boolean, keys: ContextKeys): string | undefined {
  let out = '';
  for (const piece of pieces(text, variables)) {
    const value = piece.kind === 'variable' ? resolve(piece, keys) : piece.text;
    if (value === undefined) return undefined;
    out += value;
  }
  return out;
}
