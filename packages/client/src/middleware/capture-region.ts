import type {
  AbsoluteLocation, DeserializeHandlerOptions, DeserializeMiddleware, Pluggable } from '@aws-sdk/types';
import { BUCKET_REGION_HEADER } from '../wrong-region.ts';
import { regionState } from './context.ts';

export const captureRegionOptions: DeserializeHandlerOptions & AbsoluteLocation & { name: string } = {
  step: 'deserialize',
  // Low priority puts it inside the deserializer, next to the wire: it sees the raw response
  // even when the deserializer then throws a body-less error (HEAD answers have no body).
  priority: 'low',
  name: 'meridianCaptureBucketRegion',
  tags: ['MERIDIAN'],
};

/**
 * Records the raw response's status and `x-amz-bucket-region` header in the request's
 * context, for the redirect middleware.
 *
 * @example
 * s3.middlewareStack.add(captureRegionMiddleware(), captureRegionOptions);
 */
export function captureRegionMiddleware<I extends object, O extends object>(): DeserializeMiddleware<I, O> {
  return (next, context) => async (args) => {
    const result = await next(args);
    const response = result.response as { statusCode?: number; headers?: Record<string, string | undefined> } | undefined;
    if (response && typeof response.statusCode === 'number') {
      const state = regionState(context);
      state.statusCode = response.statusCode;
      const header = Object.entries(response.headers ?? {}).find(([k]) => k.toLowerCase() === BUCKET_REGION_HEADER)?.[1];
      state.bucketRegionHeader = header || undefined;
    }
    return result;
  };
}

/** Plugin form of {@link captureRegionMiddleware}. */
export function captureRegionPlugin<I extends object, O extends object>(): Pluggable<I, O> {
  return { applyToStack: (stack) => stack.add(captureRegionMiddleware<I, O>(), captureRegionOptions) };
}
