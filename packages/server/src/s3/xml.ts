import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from '../core/errors.ts';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A value in an XML document: scalars become text, arrays repeat the element (S3's "flattened" lists). */
export type XmlValue = string | number | boolean | undefined | null | XmlObject | XmlValue[];
export interface XmlObject {
  [element: string]: XmlValue;
}

const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false });
const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
});

/** An element in a sequence of differently named siblings whose order matters. */
export interface XmlElement extends XmlObject {
  name: string;
  body: XmlObject;
}

/**
 * The key under which a document holds `XmlElement[]` to be written in that order at that
 * place (S3 interleaves `Version` and `DeleteMarker` in listing order, for example).
 */
export const ORDERED = '#ordered';
const ORDERED_MARK = '__meridian_ordered__';

/** Serialises a document with the XML declaration; `xmlns` defaults to the S3 namespace. */
export function toXml(root: string, body: XmlObject, xmlns: string | null = S3_NS): string {
  let ordered: XmlElement[] | undefined;
  let doc = body;
  if (ORDERED in body) {
    ordered = body[ORDERED] as XmlElement[];
    doc = {};
    for (const [k, v] of Object.entries(body)) doc[k === ORDERED ? ORDERED_MARK : k] = k === ORDERED ? '' : v;
  }
  const content = xmlns ? { '@_xmlns': xmlns, ...doc } : doc;
  const xml = builder.build({ [root]: content }) as string;
  const out = ordered
    ? xml.replace(`<${ORDERED_MARK}></${ORDERED_MARK}>`, () =>
        ordered.map((el) => builder.build({ [el.name]: el.body }) as string).join(''),
      )
    : xml;
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + out;
}

/** The S3 timestamp format of XML bodies: 2006-02-03T16:45:09.000Z */
export function xmlDate(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * A parser that keeps text as written (tag values and prefixes may begin or end with spaces)
 * and decodes numeric character references (`&#10;`, which SDKs write for some characters).
 */
export const LITERAL_OPTIONS = {
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
} as const;
export const literalParser = new XMLParser(LITERAL_OPTIONS);

/** Validates and parses a document with `using`; empty or malformed input throws `malformed()`. */
export function parseDocument(text: string, using: XMLParser, malformed: () => Error): unknown {
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw malformed();
  try {
    return using.parse(text) as unknown;
  } catch {
    throw malformed();
  }
}

/**
 * Parses a request body. Anything that is not well-formed XML, or whose root element is not
 * `root`, is `MalformedXML`. Returns the root element's content ('' for an empty element).
 */
export function parseXml(text: string, root: string): XmlObject | '' {
  const doc = parseDocument(text, parser, () => new S3Error('MalformedXML'));
  if (typeof doc !== 'object' || doc === null) throw new S3Error('MalformedXML');
  const keys = Object.keys(doc).filter((k) => k !== '?xml');
  if (keys.length !== 1 || keys[0] !== root) throw new S3Error('MalformedXML');
  const content = (doc as Record<string, unknown>)[root];
  if (content === '') return '';
  if (typeof content !== 'object' || content === null || Array.isArray(content)) throw new S3Error('MalformedXML');
  return content as XmlObject;
}

/** A text child of a parsed element; MalformedXML if it is repeated or not text. */
export function xmlText(el: XmlObject | '', name: string): string | undefined {
  if (el === '') return undefined;
  const v = el[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new S3Error('MalformedXML');
  return v;
}
