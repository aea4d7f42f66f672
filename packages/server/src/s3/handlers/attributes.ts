import { S3Error } from '../../core/errors.ts';
import type { Handler } from '../context.ts';

export const getObjectAttributes: Handler = async (ctx) => {
  throw new S3Error('NotImplemented', `${ctx.route.op} is not implemented`);
};

