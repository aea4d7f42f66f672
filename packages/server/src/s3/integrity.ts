import { S3Error } from '../core/errors.ts';
import { BodyDigest, checksumHeaderName, CHECKSUM_ALGORITHMS } from '../storage/checksum.ts';
import type { S3Context } from './context.ts';
import { header } from './headers.ts';

/**
 * The configuration bodies S3 insists on checking (DeleteObjects, Put*Tagging,
 * PutBucketReplication, ...) must carry Content-MD5 or an `x-amz-checksum-*` header, and it
 * must match the body as received.
 *
 * @example
 * const text = await readSmallBody(ctx.body(), 64 * 1024);
 * verifyIntegrity(ctx, text); // throws InvalidRequest without a digest, BadDigest on a mismatch
 */
export function verifyIntegrity(ctx: S3Context, body: string | Buffer): void {
  const md5 = header(ctx.req.headers, 'content-md5');
  const algorithm = CHECKSUM_ALGORITHMS.find((a) => ctx.req.headers[checksumHeaderName(a)] !== undefined);
  if (md5 === undefined && algorithm === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  }
  const digest = new BodyDigest(algorithm);
  digest.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  const d = digest.finish();
  if (md5 !== undefined && md5 !== d.md5Base64) throw new S3Error('BadDigest');
  if (algorithm !== undefined && header(ctx.req.headers, checksumHeaderName(algorithm)) !== d.checksum?.base64) {
    throw new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
  }
}
