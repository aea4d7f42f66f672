/**
 * A strict JSON reader for policy documents. `JSON.parse` silently keeps the last of two
 * members with the same name, so `{"Effect":"Deny","Effect":"Allow"}` would be enforced as an
 * Allow while a reviewer reads a Deny; this reader refuses such documents, and bounds nesting so
 * a hostile body of brackets cannot exhaust the stack. Objects are built without a prototype, so
 * a member named `__proto__` is just a member.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [name: string]: JsonValue;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** Deeper than any policy needs (a policy uses five levels), shallow enough to be safe. */
export const MAX_DEPTH = 32;

/**
 * Parses `text` as one JSON value, refusing duplicate member names and nesting past `MAX_DEPTH`.
 *
 * @example
 * readJson('{"a":[1,true]}'); // { a: [1, true] }
 * readJson('{"a":1,"a":2}'); // throws JsonSyntaxError
 */
export function readJson(text: string): JsonValue {
  const reader = new Reader(text);
  reader.space();
  const value = reader.value(0);
  reader.space();
  if (reader.pos !== text.length) reader.fail('unexpected text after the document');
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string): never {
    throw new JsonSyntaxError(message, this.pos);
  }

  space(): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return;
      this.pos++;
    }
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail('expected a value');
  }

  object(depth: number): JsonObject {
    const out = Object.create(null) as JsonObject;
    const seen = new Set<string>();
    this.pos++;
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('expected a member name');
      const name = this.string();
      if (seen.has(name)) this.fail(`duplicate member ${name}`);
      seen.add(name);
      this.space();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      this.space();
      out[name] = this.value(depth + 1);
      this.space();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'");
      this.space();
    }
  }

  array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++;
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.space();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
      this.space();
    }
  }

  string(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated string');
      const code = this.text.charCodeAt(this.pos);
      if (code === 0x22) break;
      if (code < 0x20) this.fail('control character in string');
      this.pos += code === 0x5c ? 2 : 1;
    }
    this.pos++;
    try {
      return JSON.parse(this.text.slice(start, this.pos)) as string;
    } catch {
      return this.fail('invalid escape in string');
    }
  }

  number(): number {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) return this.fail('invalid number');
    this.pos += m[0].length;
    return Number(m[0]);
  }
}
