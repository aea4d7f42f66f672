/**
 * A copy source in another region of the world (CopyObject and UploadPartCopy from a bucket
 * that lives elsewhere, as S3 allows across regions). The source region is asked with plain
 * S3 requests, so it applies its own rules to the caller: as the world's service identity
 * acting for the caller's account (`x-meridian-on-behalf-of`), or unsigned for an anonymous
 * caller. HEAD names the version and its metadata, GET streams its bytes (pinned to that
 * version, ranged for a part copy) and, when the copy keeps the source's tags, GetObjectTagging
 * reads them. Nothing is buffered: the body streams from region to region.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { S3Error, type S3ErrorCode } from '../core/errors.ts';
import { parseChecksumAlgorithm } from '../storage/checksum.ts';
import type { ByteRange, ObjectVersion, StoredChecksum } from '../storage/types.ts';
import type { S3Context } from './context.ts';
import { copyExtent, type CopySource, type OpenedSource } from './copy-source.ts';
import { contentHeadersFrom, userMetadataFrom } from './headers.ts';
import { peerStream, type PeerCaller } from './peer.ts';
import { parseTaggingXml } from './tagging.ts';

/** Answers of the source region that mean what they say to the copying client too. */
const PASSED_ON = new Set<string>(['AccessDenied', 'InvalidArgument', 'InvalidRange']);

export async function openRemoteCopySource(
  ctx: S3Context,
  src: CopySource,
  region: string,
  opts: { range?: (size: number) => ByteRange | undefined; withTags: boolean },
): Promise<OpenedSource> {
  const { principal } = ctx;
  const caller: PeerCaller =
    principal === 'service'
      ? { service: true }
      : principal.type === 'anonymous'
        ? { anonymous: true }
        : { onBehalfOf: principal.account };
  const path = `/${encodeSegment(src.bucket)}/${src.key.split('/').map(encodeSegment).join('/')}`;
  const versionQuery = (id: string | undefined) => (id === undefined ? '' : `versionId=${encodeURIComponent(id)}`);
  const ask = async (method: 'HEAD' | 'GET', query: string, headers: Record<string, string> = {}) => {
    const res = await peerStream(ctx.catalog, region, { method, path, query, headers, caller });
    if (!res) throw new S3Error('ServiceUnavailable', `The region that holds the copy source (${region}) is not reachable.`);
    return res;
  };

  const head = await ask('HEAD', versionQuery(src.versionId), { 'x-amz-checksum-mode': 'ENABLED' });
  await head.body.dump();
  if (head.statusCode !== 200) {
    if (head.statusCode === 405) {
      throw new S3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
    }
    throw remoteError(head.statusCode, undefined, src);
  }
  const version = versionFromHeaders(src, head.headers);
  const { range, length } = copyExtent(ctx, version, opts.range);
  const versioned = typeof head.headers['x-amz-version-id'] === 'string';
  const pinned = versioned ? version.versionId : undefined;
  if (opts.withTags && Number(head.headers['x-amz-tagging-count'] ?? 0) > 0) {
    const tagging = await ask('GET', pinned === undefined ? 'tagging' : `tagging&${versionQuery(pinned)}`);
    const text = await tagging.body.text();
    if (tagging.statusCode !== 200) throw remoteError(tagging.statusCode, text, src);
    version.tags = parseTaggingXml(text, 'object');
  }
  let body: Readable;
  if (length === 0) {
    body = Readable.from([]);
  } else {
    const get = await ask('GET', versionQuery(pinned), range ? { range: `bytes=${range.start}-${range.end}` } : {});
    if (get.statusCode !== 200 && get.statusCode !== 206) throw remoteError(get.statusCode, await get.body.text(), src);
    body = get.body;
  }
  return {
    version,
    requestedVersionId: src.versionId,
    body,
    length,
    versionHeader: versioned ? { 'x-amz-copy-source-version-id': version.versionId } : {},
  };
}

/** What a copy needs of the source version, from the headers of its HEAD. */
function versionFromHeaders(src: CopySource, h: Dispatcher.ResponseData['headers']): ObjectVersion {
  const one = (name: string) => {
    const v = h[name];
    return typeof v === 'string' ? v : undefined;
  };
  const lastModified = Date.parse(one('last-modified') ?? '');
  const headers = Object.fromEntries(Object.entries(h).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  return {
    bucket: src.bucket,
    key: src.key,
    versionId: one('x-amz-version-id') ?? 'null',
    isDeleteMarker: false,
    lastModified: Number.isNaN(lastModified) ? Date.now() : lastModified,
    size: Number(one('content-length') ?? 0),
    etag: (one('etag') ?? '').replace(/^"|"$/g, ''),
    storageClass: one('x-amz-storage-class') ?? 'STANDARD',
    owner: '',
    userMetadata: userMetadataFrom(headers),
    ...contentHeadersFrom(headers),
    checksum: checksumFromHeaders(one),
    data: { kind: 'none' },
  };
}

function checksumFromHeaders(one: (name: string) => string | undefined): StoredChecksum | undefined {
  for (const name of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256']) {
    const value = one(`x-amz-checksum-${name}`);
    const algorithm = parseChecksumAlgorithm(name.toUpperCase());
    if (value === undefined || !algorithm) continue;
    const type = one('x-amz-checksum-type') === 'COMPOSITE' ? 'COMPOSITE' : 'FULL_OBJECT';
    return { algorithm, type, value };
  }
  return undefined;
}

/** The source region's refusal, as the copying client should see it. */
function remoteError(status: number, text: string | undefined, src: CopySource): S3Error {
  const code = text === undefined ? undefined : /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const missing = () =>
    src.versionId === undefined
      ? new S3Error('NoSuchKey', undefined, { fields: { Key: src.key } })
      : new S3Error('NoSuchVersion', undefined, { fields: { Key: src.key, VersionId: src.versionId } });
  if (code === 'NoSuchKey' || code === 'NoSuchVersion') return missing();
  if (code === 'NoSuchBucket') return new S3Error('NoSuchBucket', undefined, { fields: { BucketName: src.bucket } });
  if (code !== undefined && PASSED_ON.has(code)) return new S3Error(code as S3ErrorCode);
  // HEAD answers carry no body: the status says what happened.
  if (status === 403) return new S3Error('AccessDenied');
  if (status === 404) return missing();
  return new S3Error('ServiceUnavailable', `The region that holds the copy source answered ${status}.`);
}

function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
