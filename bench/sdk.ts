/**
 * The real AWS SDK client (`@aws-sdk/client-s3`) pointed at a bench target, for scenarios
 * that need more of S3 than `S3BenchClient` speaks (multipart, listing) or where using the
 * client people actually run is the point.
 *
 * It sends what `S3BenchClient` sends, so figures stay comparable across scenarios: payloads
 * are `UNSIGNED-PAYLOAD` (otherwise the SDK SHA-256s every Buffer body on plain http, which on
 * a shared 2-core machine takes CPU away from the server being measured) and no flexible
 * checksums unless an operation requires one. Path-style URLs, region us-east-1 unless told, keep-alive.
 */
import http from 'node:http';
import { S3Client, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BuildMiddleware } from '@smithy/types';
import type { Credentials } from './client.ts';

export interface SdkClientOptions {
  endpoint: string;
  credentials: Credentials;
  /** Sockets the keep-alive agent may open to the target. */
  connections: number;
  /** The region requests are signed for (us-east-1 by default). */
  region?: string;
}

export interface SdkClient {
  s3: S3Client;
  /** Closes the client and its sockets. */
  destroy(): void;
}

/**
 * Marks the payload unsigned before the signer runs; the signer uses a preset
 * `x-amz-content-sha256` instead of hashing the body.
 */
const unsignedPayload: BuildMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
  const request = args.request as { headers?: Record<string, string> };
  if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  return next(args);
};

export function sdkClient(opts: SdkClientOptions): SdkClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
  const s3 = new S3Client({
    endpoint: opts.endpoint,
    region: opts.region ?? 'us-east-1',
    forcePathStyle: true,
    credentials: opts.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A failed request is a finding, not something to paper over with retries.
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: agent, connectionTimeout: 10_000 }),
  });
  s3.middlewareStack.add(unsignedPayload, { step: 'build', name: 'benchUnsignedPayload' });
  return {
    s3,
    destroy: () => {
      s3.destroy();
      agent.destroy();
    },
  };
}
