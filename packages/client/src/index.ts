/**
 * @meridian/client: the multi-region client for S3 and Meridian, built as middleware on the
 * stock `@aws-sdk/client-s3`. It depends only on the AWS SDK, never on the server package.
 */
export const CLIENT_PACKAGE = '@meridian/client';

export { MultiRegionS3Client, type MultiRegionS3ClientConfig } from './multi-region-s3-client.ts';
export { MultiRegionClient, type MultiRegionClientConfig, type SdkClient } from './multi-region-client.ts';
export { presign, type PresignOptions } from './presign.ts';
export { inRegion, regionOf, withoutRegion, REGION_PARAM, type WithRegion } from './region-param.ts';
export { mrapAlias } from './mrap.ts';
export type { BucketRegionCache } from './cache/types.ts';
export { MemoryRegionCache, type MemoryRegionCacheOptions } from './cache/memory.ts';
export { SafeRegionCache, type SafeRegionCacheOptions } from './cache/safe.ts';
export { BodyNotReplayableError, DEFAULT_MAX_REPLAY_BYTES, replayableBody, type ReplayableBody } from './body-replay.ts';
export { headBucketProbe, type BucketRegionProbe, type ProbeOptions } from './probe.ts';
export {
  classifyWrongRegion,
  regionFromError,
  regionOfEndpoint,
  BUCKET_REGION_HEADER,
  type WrongRegionAnswer,
  type WrongRegionKind,
} from './wrong-region.ts';
export { stripRegionMiddleware, stripRegionPlugin, stripRegionOptions } from './middleware/strip-region.ts';
export { captureRegionMiddleware, captureRegionPlugin, captureRegionOptions } from './middleware/capture-region.ts';
export {
  redirectMiddleware,
  redirectPlugin,
  redirectOptions,
  redispatchMarkerPlugin,
  type RedirectEvent,
  type RedirectOptions,
  type RegionCachePort,
} from './middleware/redirect.ts';
export { forgetMissingBucketMiddleware, forgetMissingBucketPlugin, forgetMissingBucketOptions } from './middleware/forget-missing-bucket.ts';
export { mrapAddressingMiddleware, mrapAddressingPlugin, mrapAddressingOptions } from './middleware/mrap-addressing.ts';
export { regionState, type RegionRequestState } from './middleware/context.ts';
export { FileRegionCache, defaultFileRegionCacheDir, type FileRegionCacheOptions } from './cache/file.ts';
export {
  RedisRegionCache,
  RegionCacheUnavailableError,
  DEFAULT_REDIS_PREFIX,
  type RedisRegionCacheOptions,
} from './cache/redis.ts';
export {
  createReadStream,
  createWriteStream,
  parseS3Url,
  isNetworkError,
  ObjectChangedError,
  MIN_PART_SIZE,
  type ReadStreamOptions,
  type WriteStreamOptions,
  type S3CommandSender,
  type S3Location,
} from './streams.ts';
