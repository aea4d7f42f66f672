/**
 * Policy: which S3 answers mean "this bucket lives in another region", and where in the
 * answer that region is written. Pure functions of the error; the redirect middleware acts
 * on them.
 */

/** How S3 told us we are in the wrong region. */
export type WrongRegionKind =
  /** 301 PermanentRedirect (with or without a body: HEAD has none) or 307 TemporaryRedirect. */
  | 'redirect'
  /** 400 AuthorizationHeaderMalformed / AuthorizationQueryParametersError: signed for the wrong region. */
  | 'signature'
  /** 400 IllegalLocationConstraintException on anything but CreateBucket. */
  | 'location';

export interface WrongRegionAnswer {
  kind: WrongRegionKind;
  /** The region named by the answer (header or error body), when it names one. */
  region?: string;
}

interface ErrorLike {
  name?: unknown;
  Code?: unknown;
  Region?: unknown;
  Endpoint?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

export const BUCKET_REGION_HEADER = 'x-amz-bucket-region';

/** Region names as AWS and Meridian spell them (`us-east-1`, `eu-west-1`, `us-gov-west-1`). */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** An AWS S3 endpoint naming its region: `s3.eu-west-1.amazonaws.com`, `b.s3-eu-west-1.amazonaws.com`. */
const AWS_S3_HOST = /(?:^|\.)s3[.-]([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

function asRegion(value: unknown): string | undefined {
  return typeof value === 'string' && REGION_NAME.test(value.trim()) ? value.trim() : undefined;
}

/**
 * Classifies a failed S3 call: a `WrongRegionAnswer` when the bucket lives elsewhere, else
 * undefined (the error is not ours to handle).
 *
 * @example
 * classifyWrongRegion(err, 'GetObjectCommand'); // { kind: 'redirect', region: 'eu-west-1' }
 */
export function classifyWrongRegion(
  err: unknown,
  commandName: string | undefined,
  endpoints: Readonly<Record<string, string>> = {},
): WrongRegionAnswer | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as ErrorLike;
  const status = e.$metadata?.httpStatusCode;
  const code = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : '';
  let kind: WrongRegionKind | undefined;
  if (status === 301 || status === 307 || code === 'PermanentRedirect' || code === 'TemporaryRedirect') kind = 'redirect';
  else if (code === 'AuthorizationHeaderMalformed' || code === 'AuthorizationQueryParametersError') kind = 'signature';
  else if (code === 'IllegalLocationConstraintException' && commandName !== 'CreateBucketCommand') kind = 'location';
  if (!kind) return undefined;
  const region = regionFromError(e, endpoints);
  return region === undefined ? { kind } : { kind, region };
}

/**
 * The region an error answer names: the `x-amz-bucket-region` header first, then the error
 * body's `<Region>`, then its `<Endpoint>` (a configured endpoint, or an AWS regional host).
 *
 * @example
 * regionFromError(err, { 'eu-west-1': 'http://127.0.0.1:9001' }); // 'eu-west-1'
 */
export function regionFromError(err: unknown, endpoints: Readonly<Record<string, string>> = {}): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as ErrorLike;
  return (
    asRegion(e.$response?.headers?.[BUCKET_REGION_HEADER]) ?? asRegion(e.Region) ?? regionOfEndpoint(e.Endpoint, endpoints)
  );
}

/**
 * The region whose endpoint is `endpoint` (an `<Endpoint>` from a redirect body: a host, a
 * host:port, or a URL), looked up in `endpoints`, else read from an AWS regional host name.
 *
 * @example
 * regionOfEndpoint('bucket.s3.eu-west-1.amazonaws.com', {}); // 'eu-west-1'
 */
export function regionOfEndpoint(endpoint: unknown, endpoints: Readonly<Record<string, string>>): string | undefined {
  if (typeof endpoint !== 'string' || endpoint === '') return undefined;
  const host = hostOf(endpoint);
  if (!host) return undefined;
  for (const [region, url] of Object.entries(endpoints)) {
    const configured = hostOf(url);
    if (configured && (host === configured || host.endsWith(`.${configured}`))) return region;
  }
  return AWS_S3_HOST.exec(host.replace(/:\d+$/, ''))?.[1];
}

function hostOf(endpoint: string): string | undefined {
  try {
    return new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`).host.toLowerCase();
  } catch {
    return undefined;
  }
}
