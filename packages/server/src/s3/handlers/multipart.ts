import { S3Error } from '../../core/errors.ts';
import type { Handler } from '../context.ts';

export const createMultipartUpload: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const uploadPart: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const uploadPartCopy: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const completeMultipartUpload: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const abortMultipartUpload: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const listParts: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

export const listMultipartUploads: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

