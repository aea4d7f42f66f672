/**
 * The rules of CompleteMultipartUpload, as a pure function of the upload, the parts stored
 * for it and the part list the client sent: which parts make the object, in which order, and
 * the object's size, ETag and checksum. Every S3 error of the operation is raised here.
 */
import { S3Error } from '../core/errors.ts';
import { combineCrcs, compositeChecksum, multipartEtag, type ChecksumAlgorithm } from './checksum.ts';
import type { CompletedPart, PartRecord, StoredChecksum, UploadRecord } from './types.ts';

/** Every part but the last must be at least 5 MiB. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;
/** A part, like a single PUT, carries at most 5 GiB. */
export const MAX_PART_SIZE = 5 * 1024 ** 3;

export interface Assembled {
  parts: PartRecord[];
  size: number;
  etag: string;
  checksum?: StoredChecksum;
}

export function assembleParts(
  upload: UploadRecord,
  stored: readonly PartRecord[],
  requested: readonly CompletedPart[],
  minPartSize = MIN_PART_SIZE,
): Assembled {
  if (requested.length === 0) throw new S3Error('InvalidRequest', 'You must specify at least one part');
  const uploadId = upload.uploadId;
  for (let i = 1; i < requested.length; i++) {
    if (requested[i].partNumber <= requested[i - 1].partNumber) {
      throw new S3Error('InvalidPartOrder', undefined, { fields: { UploadId: uploadId } });
    }
  }
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  const algorithm = upload.checksum?.algorithm;
  const parts: PartRecord[] = [];
  for (const want of requested) {
    const invalidPart = () =>
      new S3Error('InvalidPart', undefined, {
        fields: { UploadId: uploadId, PartNumber: String(want.partNumber), ...(want.etag ? { ETag: want.etag } : {}) },
      });
    const part = byNumber.get(want.partNumber);
    if (!part || part.etag !== want.etag) throw invalidPart();
    if (want.checksum) {
      if (algorithm !== undefined && want.checksum.algorithm !== algorithm) {
        throw new S3Error(
          'BadDigest',
          `The ${want.checksum.algorithm.toLowerCase()} you specified for part ${want.partNumber} did not match what we received.`,
        );
      }
      if (part.checksum?.algorithm !== want.checksum.algorithm || part.checksum.value !== want.checksum.value) {
        throw invalidPart();
      }
    } else if (algorithm !== undefined && upload.checksum?.type === 'COMPOSITE') {
      throw new S3Error(
        'InvalidRequest',
        `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${want.partNumber} in the request.`,
      );
    }
    parts.push(part);
  }
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i].size < minPartSize) {
      throw new S3Error('EntityTooSmall', undefined, {
        fields: {
          ProposedSize: String(parts[i].size),
          MinSizeAllowed: String(minPartSize),
          PartNumber: String(parts[i].partNumber),
          ETag: parts[i].etag,
        },
      });
    }
  }
  let size = 0;
  for (const p of parts) size += p.size;
  return { parts, size, etag: multipartEtag(parts.map((p) => p.etag)), checksum: objectChecksum(upload, parts) };
}

function objectChecksum(upload: UploadRecord, parts: readonly PartRecord[]): StoredChecksum | undefined {
  if (!upload.checksum) return undefined;
  const { algorithm, type } = upload.checksum;
  const values = parts.map((p) => {
    if (p.checksum?.algorithm !== algorithm) throw new Error(`part ${p.partNumber} has no ${algorithm} checksum`);
    return p.checksum.value;
  });
  if (type === 'COMPOSITE') return { algorithm, type, value: compositeChecksum(algorithm, values) };
  return { algorithm, type, value: combineCrcs(algorithm, parts.map((p, i) => ({ value: values[i], size: p.size }))) };
}

/**
 * Checks a whole-object checksum the client sent with CompleteMultipartUpload against the
 * assembled object's. A composite value may come with or without its `-<parts>` suffix.
 */
export function checkObjectChecksum(
  assembled: Assembled,
  expected: { algorithm: ChecksumAlgorithm; value: string; type?: StoredChecksum['type'] },
): void {
  const actual = assembled.checksum;
  if (actual && expected.type !== undefined && expected.type !== actual.type) {
    throw new S3Error(
      'InvalidRequest',
      `The upload was created using the ${actual.type} checksum mode. The complete request must use the same checksum mode.`,
    );
  }
  const mismatch = () =>
    new S3Error('BadDigest', `The ${expected.algorithm.toLowerCase()} you specified did not match the calculated checksum.`);
  if (!actual || actual.algorithm !== expected.algorithm) throw mismatch();
  if (actual.type === 'COMPOSITE') {
    const [bare] = actual.value.split('-');
    if (expected.value !== actual.value && expected.value !== bare) throw mismatch();
  } else if (expected.value !== actual.value) {
    throw mismatch();
  }
}
