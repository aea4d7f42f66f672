import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/log.ts';
import { S3Error, isS3Error } from '../core/errors.ts';
import { toXml, type XmlObject } from './xml.ts';

export function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, { ...headers, 'content-type': 'application/xml', 'content-length': body.length });
  res.end(body);
}

export function sendXmlDocument(res: ServerResponse, root: string, body: XmlObject, headers: Record<string, string> = {}): void {
  sendXml(res, 200, toXml(root, body), headers);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-length': 0 });
  res.end();
}

/**
 * The one place where a thrown value becomes an S3 error response. Anything that is not an
 * `S3Error` is a bug or an I/O failure: it is logged with the request id and answered as
 * `InternalError`, without leaking its message.
 */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
  ctx: { requestId: string; hostId: string; resource: string; log: Logger },
): void {
  let e: S3Error;
  if (isS3Error(err)) {
    e = err;
  } else if (clientAborted(req, err)) {
    // The client stopped sending mid-body. If it still listens (a half-close), tell it the
    // body was incomplete; if it is gone, there is no one to answer.
    ctx.log.debug({ requestId: ctx.requestId, method: req.method, url: req.url }, 'client aborted the request body');
    if (res.headersSent || !res.writable || req.socket.destroyed || !req.socket.writable) {
      res.destroy();
      return;
    }
    e = new S3Error('IncompleteBody', undefined, { headers: { connection: 'close' } });
  } else {
    ctx.log.error({ err, requestId: ctx.requestId, method: req.method, url: req.url }, 'internal error');
    e = new S3Error('InternalError');
  }
  if (res.headersSent) {
    // Too late for an error document: cut the connection so the client sees a failure
    // rather than a truncated body it might take for the whole object.
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...e.headers };
  if (req.method === 'HEAD' || e.status === 304) {
    // HEAD responses and 304 carry no body; the status and headers say it all.
    res.writeHead(e.status, { ...headers, 'content-length': 0 });
    res.end();
    return;
  }
  const doc: XmlObject = { Code: e.code, Message: e.message };
  for (const [k, v] of Object.entries(e.fields)) doc[k] = v;
  if (!('Resource' in doc) && e.status !== 301) doc.Resource = ctx.resource;
  doc.RequestId = ctx.requestId;
  doc.HostId = ctx.hostId;
  sendXml(res, e.status, toXml('Error', doc, null), headers);
}

function clientAborted(req: IncomingMessage, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (req.readableAborted && !req.complete);
}
