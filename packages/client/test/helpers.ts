import type { HttpRequest, HttpResponse } from '@aws-sdk/types';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface SentRequest {
  method: string;
  host: string;
  path: string;
}

/**
 * A request handler that records every HTTP request before sending it: shared by all the
 * per-region clients of one MultiRegionS3Client, so it counts round trips to every server.
 */
export class CountingHandler extends NodeHttpHandler {
  readonly sent: SentRequest[] = [];

  override handle(request: HttpRequest, options?: object): Promise<{ response: HttpResponse }> {
    this.sent.push({ method: request.method, host: `${request.hostname}:${request.port ?? ''}`, path: request.path });
    return super.handle(request as never, options as never);
  }

  /** Requests sent since `mark` (a previous `sent.length`). */
  since(mark: number): SentRequest[] {
    return this.sent.slice(mark);
  }
}

/** host:port of an endpoint URL, as recorded by CountingHandler. */
export function hostOf(endpoint: string): string {
  const u = new URL(endpoint);
  return `${u.hostname}:${u.port}`;
}
