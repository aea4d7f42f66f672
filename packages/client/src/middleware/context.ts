import type { HandlerExecutionContext } from '@aws-sdk/types';

/**
 * Per-request state of the multi-region middleware. It lives in the SDK's handler context,
 * which is created for each `send`, so concurrent requests never share it and no client
 * config is ever mutated.
 */
export interface RegionRequestState {
  /** This request is the one resend after a wrong-region answer: never resend again. */
  redispatched?: boolean;
  /** `x-amz-bucket-region` of the last raw response, captured before the deserializer runs. */
  bucketRegionHeader?: string;
  /** HTTP status of the last raw response. */
  statusCode?: number;
}

const STATE_KEY = 'meridian:regionState';

/**
 * The request's multi-region state, created on first use.
 *
 * @example
 * regionState(context).redispatched = true;
 */
export function regionState(context: HandlerExecutionContext): RegionRequestState {
  const bag = context as Record<string, unknown>;
  let state = bag[STATE_KEY] as RegionRequestState | undefined;
  if (!state) {
    state = {};
    bag[STATE_KEY] = state;
  }
  return state;
}

/** The command instance being sent, which smithy puts in the handler context. */
export function commandInstance(context: HandlerExecutionContext): unknown {
  const smithy = (context as Record<string, unknown>)['__smithy_context'] as { commandInstance?: unknown } | undefined;
  return smithy?.commandInstance;
}
