import type {
  AbsoluteLocation, InitializeHandlerOptions, InitializeMiddleware, Pluggable } from '@aws-sdk/types';
import { mrapAlias } from '../mrap.ts';

export const mrapAddressingOptions: InitializeHandlerOptions & AbsoluteLocation & { name: string } = {
  step: 'initialize',
  priority: 'high',
  name: 'meridianMrapAddressing',
  tags: ['MERIDIAN'],
};

/**
 * On the global-endpoint client: turns an MRAP ARN given as the Bucket into its alias
 * (`<alias>.mrap`), so the request goes path-style to the configured global endpoint instead
 * of the SDK's endpoint rules sending it to AWS's `accesspoint.s3-global` host.
 *
 * @example
 * global.middlewareStack.add(mrapAddressingMiddleware(), mrapAddressingOptions);
 */
export function mrapAddressingMiddleware<I extends object, O extends object>(): InitializeMiddleware<I, O> {
  return (next) => (args) => {
    const bucket = (args.input as { Bucket?: unknown }).Bucket;
    const alias = mrapAlias(bucket);
    if (alias === undefined || alias === bucket) return next(args);
    return next({ ...args, input: { ...args.input, Bucket: alias } });
  };
}

/** Plugin form of {@link mrapAddressingMiddleware}. */
export function mrapAddressingPlugin<I extends object, O extends object>(): Pluggable<I, O> {
  return { applyToStack: (stack) => stack.add(mrapAddressingMiddleware<I, O>(), mrapAddressingOptions) };
}
