import { S3Error } from '../../core/errors.ts';
import type { Handler } from '../context.ts';

export const getObjectTagging: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const putObjectTagging: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const deleteObjectTagging: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const getBucketTagging: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const putBucketTagging: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const deleteBucketTagging: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

