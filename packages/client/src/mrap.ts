/**
 * Multi-Region Access Point addressing. A bucket given as an MRAP ARN
 * (`arn:aws:s3::<account>:accesspoint/<alias>`, the Region field empty) or as the alias
 * itself (`<alias>.mrap`) names an MRAP, which is served by the global endpoint, never by a
 * regional one.
 */
const MRAP_ARN = /^arn:[a-z-]+:s3::\d{12}:accesspoint[/:]([a-z][a-z0-9]*)(?:\.mrap)?$/;
const MRAP_ALIAS = /^[a-z][a-z0-9]*\.mrap$/;

/**
 * The MRAP alias named by `bucket` (`<alias>.mrap`), or undefined when it is a plain bucket.
 *
 * @example
 * mrapAlias('arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap'); // 'mfzwi23gnjvgw.mrap'
 * mrapAlias('mfzwi23gnjvgw.mrap'); // 'mfzwi23gnjvgw.mrap'
 * mrapAlias('photos'); // undefined
 */
export function mrapAlias(bucket: unknown): string | undefined {
  if (typeof bucket !== 'string') return undefined;
  if (MRAP_ALIAS.test(bucket)) return bucket;
  const alias = MRAP_ARN.exec(bucket)?.[1];
  return alias === undefined ? undefined : `${alias}.mrap`;
}
