/**
 * Object and bucket tag sets: the `x-amz-tagging` header, the `<Tagging>` document and the
 * limits S3 puts on both. Pure functions; storage keeps `Tag[]`.
 */
import { S3Error } from '../core/errors.ts';
import type { Tag } from '../storage/types.ts';
import { XMLParser } from 'fast-xml-parser';
import { LITERAL_OPTIONS, parseDocument, type XmlObject } from './xml.ts';

/** What a tag set belongs to: the limits and the messages differ. */
export type TagTarget = 'object' | 'bucket';

export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
/** Lengths are counted in UTF-16 code units, as S3 counts them. */
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;

/** Unicode letters, digits, separators (spaces) and `_ . : / = + - @`. */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const RESERVED_PREFIX = 'aws:';

const BAD_HEADER =
  "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";

// Values keep their whitespace: a tag value of " a " is three characters, not one.

// Values keep their whitespace: a tag value of " a " is three characters, not one.
const parser = new XMLParser({ ...LITERAL_OPTIONS, isArray: (name) => name === 'Tag' });

export function isValidTagKey(key: string): boolean {
  return key.length >= 1 && key.length <= MAX_TAG_KEY_LENGTH && TAG_CHARACTERS.test(key);
}

export function isValidTagValue(value: string): boolean {
  return value.length <= MAX_TAG_VALUE_LENGTH && TAG_CHARACTERS.test(value);
}

/**
 * Checks a tag set against S3's rules, in S3's order: the count first, then each tag's key,
 * value, uniqueness and the reserved `aws:` prefix (in any letter case).
 */
export function validateTags(tags: readonly Tag[], target: TagTarget): void {
  if (target === 'object' && tags.length > MAX_OBJECT_TAGS) {
    throw new S3Error('BadRequest', `Object tags cannot be greater than ${MAX_OBJECT_TAGS}`);
  }
  if (target === 'bucket' && tags.length > MAX_BUCKET_TAGS) {
    throw new S3Error('BadRequest', `Bucket tag count cannot be greater than ${MAX_BUCKET_TAGS}`);
  }
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (!isValidTagKey(key)) {
      throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { fields: { TagKey: key } });
    }
    if (!isValidTagValue(value)) {
      throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', {
        fields: { TagKey: key, TagValue: value },
      });
    }
    if (seen.has(key)) {
      throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key', { fields: { TagKey: key } });
    }
    seen.add(key);
    if (key.slice(0, RESERVED_PREFIX.length).toLowerCase() === RESERVED_PREFIX) {
      const message =
        target === 'object' ? 'Your TagKey cannot be prefixed with aws:' : 'System tags cannot be added/updated by requester';
      throw new S3Error('InvalidTag', message, { fields: { TagKey: key } });
    }
  }
}

/**
 * The tags of an `x-amz-tagging` header (PutObject, CreateMultipartUpload, CopyObject with
 * `x-amz-tagging-directive: REPLACE`): URL query form, `+` for space, a name without `=` has
 * an empty value. Bad percent-encoding, non-UTF-8 bytes, an empty name or a repeated name is
 * InvalidArgument; the tags themselves are checked as object tags.
 *
 * @example
 * parseTaggingHeader('project=blue&team=data%20eng&draft') // [{key:'project',value:'blue'}, {key:'team',value:'data eng'}, {key:'draft',value:''}]
 */
export function parseTaggingHeader(value: string): Tag[] {
  const bad = (): S3Error =>
    new S3Error('InvalidArgument', BAD_HEADER, { fields: { ArgumentName: 'x-amz-tagging', ArgumentValue: value } });
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      throw bad();
    }
  };
  const tags: Tag[] = [];
  const names = new Set<string>();
  for (const pair of value.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const tagValue = eq === -1 ? '' : decode(pair.slice(eq + 1));
    if (key === '' || names.has(key)) throw bad();
    names.add(key);
    tags.push({ key, value: tagValue });
  }
  validateTags(tags, 'object');
  return tags;
}

/** The `x-amz-tagging` form of a tag set (what CopyObject would send, for example). */
export function taggingHeader(tags: readonly Tag[]): string {
  return tags.map((t) => `${encodeURIComponent(t.key)}=${encodeURIComponent(t.value)}`).join('&');
}

/**
 * The tags of a PutObjectTagging / PutBucketTagging body:
 * `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>`. An empty body is
 * MissingRequestBodyError; a document of another shape, no TagSet, or a Tag without Key or
 * Value is MalformedXML; then the tags are checked for `target`.
 */
export function parseTaggingXml(xml: string, target: TagTarget): Tag[] {
  if (xml.trim() === '') throw new S3Error('MissingRequestBodyError');
  const doc = parseDocument(xml, parser, () => new S3Error('MalformedXML'));
  const root = element(doc, '?xml');
  const names = Object.keys(root);
  if (names.length !== 1 || names[0] !== 'Tagging') throw new S3Error('MalformedXML');
  const tagging = element(root.Tagging);
  if (!('TagSet' in tagging) || Array.isArray(tagging.TagSet)) throw new S3Error('MalformedXML');
  const tagSet = element(tagging.TagSet);
  const list = tagSet.Tag ?? [];
  if (!Array.isArray(list)) throw new S3Error('MalformedXML');
  const tags = list.map((t): Tag => {
    const tag = element(t);
    return { key: text(tag.Key), value: text(tag.Value) };
  });
  validateTags(tags, target);
  return tags;
}

/** The body of GetObjectTagging / GetBucketTagging (under the root `Tagging`). */
export function taggingXml(tags: readonly Tag[]): XmlObject {
  return { TagSet: { Tag: tags.map((t) => ({ Key: t.key, Value: t.value })) } };
}

/**
 * A parsed element that holds child elements: its children by name. Whitespace between the
 * children is not content; any other text is. `ignore` names children to drop.
 */
function element(node: unknown, ignore?: string): Record<string, unknown> {
  if (node === '') return {};
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw new S3Error('MalformedXML');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node)) {
    if (name === ignore) continue;
    if (name === '#text') {
      if (typeof value !== 'string' || value.trim() !== '') throw new S3Error('MalformedXML');
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** A required text-only child, exactly once. */
function text(node: unknown): string {
  if (typeof node !== 'string') throw new S3Error('MalformedXML');
  return node;
}
