/**
 * Names, aliases and ARNs of Multi-Region Access Points and of their asynchronous requests
 * (shapes from the S3 Control model and the S3 User Guide, "Rules for naming Amazon S3
 * Multi-Region Access Points").
 */
import { randomBytes } from 'node:crypto';
import type { MrapOperation } from '../../catalog/catalog.ts';

/** 3–50 characters: lowercase letters, digits and '-', not at either end. */
export const MRAP_NAME = /^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$/;
export const ALIAS = /^[a-z][a-z0-9]*[.]mrap$/;
export const ACCOUNT_ID = /^\d{12}$/;
/** An MRAP spans one bucket in each of 1 to 17 Regions. */
export const MAX_REGIONS = 17;
export const MAX_MRAPS_PER_ACCOUNT = 100;
/** The Region the MRAP control plane runs in (its token ARNs name it). */
export const CONTROL_REGION = 'us-west-2';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const ALPHANUMERICS = `${LETTERS}0123456789`;

/**
 * A fresh random alias: 13 lowercase alphanumerics starting with a letter, then `.mrap`
 * (AWS aliases look like `mfzwi23gnjvgw.mrap`). It reveals neither the name nor the owner.
 *
 * @example
 * newAlias(); // 'k3x9q0v7m2adp.mrap'
 */
export function newAlias(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(13);
  let out = LETTERS[bytes[0] % LETTERS.length];
  for (let i = 1; i < 13; i++) out += ALPHANUMERICS[bytes[i] % ALPHANUMERICS.length];
  return `${out}.mrap`;
}

/** `arn:aws:s3::{account}:accesspoint/{alias}`: no Region, unlike a regional access point. */
export function mrapArn(account: string, alias: string): string {
  return `arn:aws:s3::${account}:accesspoint/${alias}`;
}

/** The account and alias of an MRAP ARN, or undefined if `text` is not one. */
export function parseMrapArn(text: string): { account: string; alias: string } | undefined {
  const m = /^arn:aws:s3::(\d{12}):accesspoint\/([a-z][a-z0-9]*[.]mrap)$/.exec(text);
  return m ? { account: m[1], alias: m[2] } : undefined;
}

const OPERATION_PATH: Record<MrapOperation, string> = {
  CreateMultiRegionAccessPoint: 'create',
  DeleteMultiRegionAccessPoint: 'delete',
  PutMultiRegionAccessPointPolicy: 'put-policy',
};

/** A random request token (the last part of the token ARN). */
export function newRequestToken(): string {
  return randomBytes(16).toString('hex');
}

/** `arn:aws:s3:us-west-2:{account}:async-request/mrap/{create|delete|put-policy}/{token}` */
export function requestTokenArn(account: string, operation: MrapOperation, token: string): string {
  return `arn:aws:s3:${CONTROL_REGION}:${account}:async-request/mrap/${OPERATION_PATH[operation]}/${token}`;
}

/** The account and token of a request token ARN, or undefined if `text` is not one. */
export function parseRequestTokenArn(text: string): { account: string; token: string } | undefined {
  const m = /^arn:aws:s3:[a-z0-9-]+:(\d{12}):async-request\/mrap\/(?:create|delete|put-policy)\/([0-9a-f]{32})$/.exec(text);
  return m ? { account: m[1], token: m[2] } : undefined;
}
