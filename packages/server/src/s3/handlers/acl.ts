import { S3Error } from '../../core/errors.ts';
import type { Handler } from '../context.ts';

export const getBucketAcl: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const putBucketAcl: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const getObjectAcl: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const putObjectAcl: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

