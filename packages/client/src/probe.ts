import type { HttpRequest, HttpResponse, RequestHandler } from '@aws-sdk/types';
import { BUCKET_REGION_HEADER } from './wrong-region.ts';

/** Finds the region of a bucket when no answer named it. */
export type BucketRegionProbe = (bucket: string) => Promise<string | undefined>;

export interface ProbeOptions {
  /** Sends the probe: the client's own request handler, so probes share its pool and are counted with its requests. */
  requestHandler: RequestHandler<HttpRequest, HttpResponse, object>;
  /** Where to ask: the default region's endpoint; undefined means AWS (`https://s3.amazonaws.com`). */
  endpoint?: string;
  /** Path-style addressing for the probe (custom endpoints); AWS gets virtual-hosted style. */
  forcePathStyle?: boolean;
}

/**
 * An unsigned `HEAD /<bucket>`: S3 (and Meridian) answer it with the bucket's region in
 * `x-amz-bucket-region`, whether the answer is 200, 301 or 403. Resolves undefined when the
 * header is missing or the probe fails; it never rejects.
 *
 * @example
 * const probe = headBucketProbe({ requestHandler: new NodeHttpHandler(), endpoint: 'http://127.0.0.1:9000' });
 * await probe('photos'); // 'eu-west-1'
 */
export function headBucketProbe(options: ProbeOptions): BucketRegionProbe {
  return async (bucket) => {
    const url = new URL(options.endpoint ?? 'https://s3.amazonaws.com');
    const virtualHosted = options.endpoint === undefined && !options.forcePathStyle && /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket);
    const basePath = url.pathname.replace(/\/$/, '');
    const request: HttpRequest = {
      method: 'HEAD',
      protocol: url.protocol,
      hostname: virtualHosted ? `${bucket}.${url.hostname}` : url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: virtualHosted ? `${basePath}/` : `${basePath}/${encodeURIComponent(bucket)}`,
      query: {},
      headers: { host: virtualHosted ? `${bucket}.${url.host}` : url.host },
    };
    try {
      const { response } = await options.requestHandler.handle(request, {});
      const body = response.body as { resume?: () => void; destroy?: () => void } | undefined;
      body?.resume?.();
      const header = Object.entries(response.headers).find(([name]) => name.toLowerCase() === BUCKET_REGION_HEADER)?.[1];
      return header || undefined;
    } catch {
      return undefined;
    }
  };
}
