import type {
  AbsoluteLocation,
  HandlerExecutionContext,
  InitializeHandlerOptions,
  InitializeMiddleware,
  Pluggable,
} from '@aws-sdk/types';
import { replayableBody } from '../body-replay.ts';
import type { BucketRegionProbe } from '../probe.ts';
import { classifyWrongRegion, type WrongRegionKind } from '../wrong-region.ts';
import { regionState } from './context.ts';

/** The cache as the middleware sees it: already made safe (never rejects). */
export interface RegionCachePort {
  get(bucket: string): Promise<string | undefined>;
  set(bucket: string, region: string): Promise<void>;
  delete(bucket: string): Promise<void>;
}

/** What the redirect middleware reports when it resends a request. */
export interface RedirectEvent {
  bucket: string;
  commandName: string | undefined;
  kind: WrongRegionKind;
  from: string;
  to: string;
  /** Where the region was learned: the answer itself, or an extra HeadBucket probe. */
  source: 'answer' | 'probe';
}

export interface RedirectOptions {
  /** The region of the client this middleware is installed on. */
  region: string;
  cache: RegionCachePort;
  /** Region → endpoint, to read a redirect's `<Endpoint>` back as a region. */
  endpoints: Readonly<Record<string, string>>;
  /** Asks for the bucket's region when the answer did not name it. */
  probe: BucketRegionProbe;
  /**
   * Sends the request once more, to `region`'s client, as a fresh command (fresh endpoint and
   * signature) marked as a resend; resolves the command's output.
   */
  redispatch(region: string, input: Record<string, unknown>, context: HandlerExecutionContext): Promise<unknown>;
  /** Bound on a stream body buffered for the resend. */
  maxReplayBytes: number;
  onRedirect?: (event: RedirectEvent) => void;
}

export const redirectOptions: InitializeHandlerOptions & AbsoluteLocation & { name: string } = {
  step: 'initialize',
  priority: 'normal',
  name: 'meridianRegionRedirect',
  tags: ['MERIDIAN'],
};

/**
 * Re-dispatch on a wrong-region answer (301/307, AuthorizationHeaderMalformed /
 * AuthorizationQueryParametersError, IllegalLocationConstraintException except on
 * CreateBucket): learns the bucket's region from the answer (header, then body), else from
 * an unsigned HeadBucket probe; caches it; and resends once to that region's client with a
 * replayed body. When no other region can be learned, the original error surfaces.
 *
 * @example
 * s3.middlewareStack.add(redirectMiddleware({ region: 'us-east-1', cache, endpoints, probe, redispatch, maxReplayBytes }), redirectOptions);
 */
export function redirectMiddleware<I extends object, O extends object>(options: RedirectOptions): InitializeMiddleware<I, O> {
  return (next, context) => async (args) => {
    const input = args.input as Record<string, unknown>;
    const bucket = input.Bucket;
    const state = regionState(context);
    if (typeof bucket !== 'string' || state.redispatched) return next(args);

    const body = 'Body' in input ? replayableBody(input.Body, options.maxReplayBytes) : undefined;
    const first = body && body.body !== input.Body ? { ...args, input: { ...input, Body: body.body } as I } : args;
    try {
      const result = await next(first);
      body?.release();
      return result;
    } catch (err) {
      const answer = classifyWrongRegion(err, context.commandName, options.endpoints);
      if (!answer) {
        body?.release();
        throw err;
      }
      let region = state.bucketRegionHeader ?? answer.region;
      let source: RedirectEvent['source'] = 'answer';
      if (region === undefined || region === options.region) {
        region = await options.probe(bucket);
        source = 'probe';
      }
      if (region === undefined || region === options.region) {
        body?.release();
        throw err;
      }
      await options.cache.set(bucket, region);
      const replayed = body ? await body.replay(err) : undefined;
      options.onRedirect?.({ bucket, commandName: context.commandName, kind: answer.kind, from: options.region, to: region, source });
      const resent = body ? { ...input, Body: replayed } : { ...input };
      const output = (await options.redispatch(region, resent, context)) as O;
      return { output, response: undefined };
    }
  };
}

/** Plugin form of {@link redirectMiddleware}. */
export function redirectPlugin<I extends object, O extends object>(options: RedirectOptions): Pluggable<I, O> {
  return { applyToStack: (stack) => stack.add(redirectMiddleware<I, O>(options), redirectOptions) };
}

/**
 * Marks a command as the one resend of a request, so that the redirect middleware of the
 * client it is sent to never resends it again. Added to the resent command's own stack.
 *
 * @example
 * resent.middlewareStack.use(redispatchMarkerPlugin());
 */
export function redispatchMarkerPlugin<I extends object, O extends object>(): Pluggable<I, O> {
  return {
    applyToStack: (stack) =>
      stack.add(
        (next, context) => (args) => {
          regionState(context).redispatched = true;
          return next(args);
        },
        { step: 'initialize', priority: 'high', name: 'meridianRedispatchMarker', tags: ['MERIDIAN'] },
      ),
  };
}
