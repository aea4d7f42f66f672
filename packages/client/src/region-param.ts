/**
 * The per-command region override, the AWS SDK for PHP convention: a `'@region'` member in a
 * command's input. It never reaches the wire: the strip middleware removes it before
 * serialization.
 */
export const REGION_PARAM = '@region';

/** A command input that may carry `'@region'`. */
export type WithRegion<T> = T & { '@region'?: string };

/**
 * The `'@region'` of a command input, if it names one.
 *
 * @example
 * regionOf({ Bucket: 'b', '@region': 'eu-west-1' }); // 'eu-west-1'
 */
export function regionOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const region = (input as Record<string, unknown>)[REGION_PARAM];
  return typeof region === 'string' && region !== '' ? region : undefined;
}

/**
 * A copy of `input` without `'@region'` (the same object when it has none).
 *
 * @example
 * withoutRegion({ Bucket: 'b', '@region': 'eu-west-1' }); // { Bucket: 'b' }
 */
export function withoutRegion<T extends object>(input: T): T {
  if (!(REGION_PARAM in input)) return input;
  const copy = { ...input } as Record<string, unknown>;
  delete copy[REGION_PARAM];
  return copy as T;
}

/**
 * Sends `command` to `region`, whatever the bucket-region cache says: the typed way to set
 * `'@region'` (TypeScript rejects an unknown member in an input literal). Returns the command.
 * The caller's input object is not modified; the command gets a copy.
 *
 * @example
 * await client.send(inRegion(new GetObjectCommand({ Bucket: 'photos', Key: 'cat.jpg' }), 'eu-west-1'));
 */
export function inRegion<C extends { readonly input: object }>(command: C, region: string): C {
  (command as { input: object }).input = { ...command.input, [REGION_PARAM]: region };
  return command;
}
