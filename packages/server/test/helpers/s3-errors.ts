import assert from 'node:assert/strict';
import { S3ServiceException } from '@aws-sdk/client-s3';

/**
 * Awaits an SDK call that must fail with an S3 error of this code and HTTP status, and returns
 * the error. Responses without a body (HEAD errors, 304) cannot be named by the SDK: pass
 * `undefined` as the code to check only the status.
 */
export async function rejectsWith(
  p: Promise<unknown>,
  code: string | undefined,
  status: number,
): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof S3ServiceException, `expected an S3 error, got ${String(err)}`);
    if (code !== undefined) assert.equal(err.name, code, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, status, `${err.name}: ${err.message}`);
    return err;
  }
  assert.fail(`expected ${code ?? status}`);
}
