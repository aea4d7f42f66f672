import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Catalog } from '../catalog/catalog.ts';
import type { Logger } from '../core/log.ts';
import { S3Error } from '../core/errors.ts';
import type { BucketRecord, ObjectEngine, PublicAccessBlock } from '../storage/types.ts';
import type { SignedRequest } from './auth/sigv4.ts';
import type { Principal } from './authorize.ts';
import type { RequestBody } from './body.ts';
import type { Route } from './router.ts';

/** Everything a handler needs about one request. Handlers never see stores or files. */
export interface S3Context {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  route: Route;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  auth: SignedRequest;
  /** The account the request acts for. */
  accountId: string;
  /**
   * Who sent the request, as authorization judges it (a copy's source is judged for them too);
   * 'service' for the world's own trusted identity.
   */
  principal: Principal | 'service';
  /** Block Public Access of the access point the request came through (an MRAP), if any. */
  accessPointBlock?: PublicAccessBlock;
  /**
   * Throws AccessDenied unless the request's principal may read `key` (a version of it, when
   * named) of `bucket`, a bucket of this region: the check a copy's source needs.
   */
  authorizeRead(bucket: BucketRecord, key: string, versionId: string | undefined): void;
  /** The region this endpoint serves. */
  region: string;
  engine: ObjectEngine;
  catalog: Catalog;
  /** The decoded payload; call once. */
  body(): RequestBody;
  log: Logger;
}

export type Handler = (ctx: S3Context) => Promise<void>;

/** The bucket of a bucket or object operation (the router guarantees one). */
export function bucketOf(ctx: S3Context): string {
  if (ctx.bucket === undefined) throw new Error(`${ctx.route.op} routed without a bucket`);
  return ctx.bucket;
}

export function keyOf(ctx: S3Context): string {
  if (ctx.key === undefined) throw new Error(`${ctx.route.op} routed without a key`);
  return ctx.key;
}

/** The record of the request's bucket, or NoSuchBucket. */
export function existingBucket(ctx: S3Context): BucketRecord {
  const name = bucketOf(ctx);
  const bucket = ctx.engine.getBucket(name);
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: name } });
  return bucket;
}
