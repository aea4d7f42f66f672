import type {
  AbsoluteLocation, InitializeHandlerOptions, InitializeMiddleware, Pluggable } from '@aws-sdk/types';
import { withoutRegion } from '../region-param.ts';

export const stripRegionOptions: InitializeHandlerOptions & AbsoluteLocation & { name: string } = {
  step: 'initialize',
  priority: 'high',
  name: 'meridianStripRegionParam',
  tags: ['MERIDIAN'],
};

/**
 * Removes `'@region'` from the input before anything serializes it; the routing decision was
 * made before the command reached this client. The caller's input object is left unchanged.
 *
 * @example
 * s3.middlewareStack.add(stripRegionMiddleware(), stripRegionOptions);
 */
export function stripRegionMiddleware<I extends object, O extends object>(): InitializeMiddleware<I, O> {
  return (next) => (args) => next({ ...args, input: withoutRegion(args.input) });
}

/**
 * Plugin form of {@link stripRegionMiddleware}, for any AWS SDK v3 client.
 *
 * @example
 * client.middlewareStack.use(stripRegionPlugin());
 */
export function stripRegionPlugin<I extends object, O extends object>(): Pluggable<I, O> {
  return { applyToStack: (stack) => stack.add(stripRegionMiddleware<I, O>(), stripRegionOptions) };
}
