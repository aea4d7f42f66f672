/**
 * What every S3-speaking HTTP server of a world does the same way (a region's endpoint, the
 * global endpoint): answer requests Node's parser rejects with an S3 error document, listen,
 * and close gracefully.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { S3Error } from '../core/errors.ts';
import { newHostId, newRequestId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { ProcessMetrics } from '../core/metrics.ts';
import { sendError } from './respond.ts';
import { toXml } from './xml.ts';

/** The request in progress on a busy socket, so a parse error there is answered through it. */
export interface BusyRequest {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  hostId: string;
}

/**
 * A request Node's parser rejects (malformed, headers too large, connection closed before
 * the declared body arrived) still gets an S3 error document with a request id.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, busy: BusyRequest | undefined, log: Logger): void {
  if (busy) {
    // Only a connection that ended mid-body is this request's to answer here; anything
    // else surfaces through the request's own error path.
    if (err.code !== 'HPE_INVALID_EOF_STATE') return;
    // The connection ended before the declared body arrived: answer the request in progress.
    const { req, res, requestId, hostId } = busy;
    if (!res.headersSent && socket.writable) {
      sendError(req, res, new S3Error('IncompleteBody', undefined, { headers: { connection: 'close' } }), {
        requestId,
        hostId,
        resource: req.url ?? '/',
        log,
      });
      res.once('finish', () => socket.destroy());
    } else {
      socket.destroy();
    }
    return;
  }
  // A body cut short after its request was already answered: nobody is waiting for more.
  if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new S3Error('RequestHeaderSectionTooLarge')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? // Headers trickled in slower than the server's headers timeout (a slowloris).
          new S3Error('RequestTimeout')
        : new S3Error('InvalidRequest', 'The HTTP request could not be parsed.');
  const requestId = newRequestId();
  const xml = toXml('Error', { Code: e.code, Message: e.message, RequestId: requestId, HostId: newHostId() }, null);
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\ncontent-type: application/xml\r\n` +
      `x-amz-request-id: ${requestId}\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(xml)}\r\n\r\n${xml}`,
  );
}

/** Listens and resolves the server's base URL (`http://127.0.0.1:9001`). */
export async function listenOn(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${h}:${addr.port}`;
}

/** Stops accepting connections, lets requests in flight finish (10 s at most), closes idle sockets. */
export async function closeGracefully(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 100);
  const force = setTimeout(() => server.closeAllConnections(), 10_000);
  try {
    await closed;
  } finally {
    clearInterval(idle);
    clearTimeout(force);
  }
}

/** What the request log and the metrics learn about a request while it is handled. */
export interface RequestRecord {
  operation: string;
  bucket?: string;
  key?: string;
  errorCode?: string;
  /** operator endpoints: logged at debug level and not counted */
  internal: boolean;
}

/**
 * One log line and one metrics sample per request, once its response is done (or abandoned).
 * Never the URL or headers: a presigned URL's query and the Authorization header carry signatures.
 */
export function requestFinished(
  where: { scope: string; metrics?: ProcessMetrics; log: Logger },
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  started: number,
  r: RequestRecord,
): void {
  const seconds = (performance.now() - started) / 1000;
  // A client that went away before the answer: nginx's 499.
  const status = res.headersSent ? res.statusCode : 499;
  const bytesIn = Number(req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'] ?? 0) || 0;
  const bytesOut = req.method === 'HEAD' ? 0 : Number(res.getHeader('content-length') ?? 0) || 0;
  const errorCode = r.errorCode ?? (status >= 500 ? 'InternalError' : undefined);
  if (!r.internal) where.metrics?.observe({ region: where.scope, operation: r.operation, status, seconds, bytesIn, bytesOut });
  const level = r.internal ? 'debug' : 'info';
  if (!where.log.isLevelEnabled(level)) return;
  const ms = Math.round(seconds * 100_000) / 100;
  where.log[level](
    {
      requestId,
      operation: r.operation,
      bucket: r.bucket,
      key: r.key,
      status,
      durationMs: ms,
      bytesIn,
      bytesOut,
      ...(errorCode ? { errorCode } : {}),
    },
    `${r.operation} ${status} in ${ms} ms`,
  );
}

/** What a server knows about a request from its first moment. */
export interface StartedRequest {
  requestId: string;
  hostId: string;
  record: RequestRecord;
  rawPath: string;
  rawQuery: string;
}

/**
 * Begins a request the same way on every endpoint: request ids and server headers on the
 * response, the socket marked busy (parse errors are answered through this request), and one
 * log line and metrics sample when the response is done or abandoned.
 */
export function startRequest(
  req: IncomingMessage,
  res: ServerResponse,
  busy: WeakMap<Duplex, BusyRequest>,
  where: { scope: string; metrics?: ProcessMetrics; log: Logger },
): StartedRequest {
  const started = performance.now();
  const requestId = newRequestId();
  const hostId = newHostId();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', hostId);
  res.setHeader('server', 'Meridian');
  const socket = req.socket;
  busy.set(socket, { req, res, requestId, hostId });
  const record: RequestRecord = { operation: 'Unknown', internal: false };
  res.once('close', () => {
    busy.delete(socket);
    requestFinished(where, req, res, requestId, started, record);
  });
  const url = originForm(req);
  const q = url.indexOf('?');
  return {
    requestId,
    hostId,
    record,
    rawPath: q === -1 ? url : url.slice(0, q),
    rawQuery: q === -1 ? '' : url.slice(q + 1),
  };
}

/**
 * A request whose body stalls longer than `idleMs` is answered 400 RequestTimeout and its
 * connection closed, as S3 does; once the body is in, the request may take as long as it needs
 * (an fsync of a large object).
 */
export function idleBodyTimeout(
  req: IncomingMessage,
  res: ServerResponse,
  idleMs: number,
  answer: { requestId: string; hostId: string; resource: string; log: Logger; onTimeout?: () => void },
): void {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return;
  req.setTimeout(idleMs, () => {
    answer.onTimeout?.();
    const { requestId, hostId, resource, log } = answer;
    sendError(req, res, new S3Error('RequestTimeout', undefined, { headers: { connection: 'close' } }), {
      requestId,
      hostId,
      resource,
      log,
    });
    res.once('finish', () => req.socket.destroy());
  });
  req.once('end', () => req.setTimeout(0));
}

/**
 * Timeouts of a region or global endpoint: request heads must arrive within the idle limit
 * that bodies get (checked often enough to matter), keep-alive sockets outlive common client
 * pools (65 s), and a request as a whole has no limit (a large upload takes what it takes).
 */
export function serverTimeouts(idleMs: number): ServerOptions {
  return {
    keepAliveTimeout: 65_000,
    requestTimeout: 0,
    headersTimeout: idleMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(idleMs / 4))),
  };
}

/**
 * The request target in origin form (`/path?query`). A request line in absolute form
 * (`GET http://bucket.localhost:9001/key HTTP/1.1`, what a client sends through an HTTP
 * proxy) is served too, as RFC 9112 requires: its authority replaces the Host header, and
 * `req.url` becomes the origin form, so everything after sees an ordinary request.
 */
function originForm(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const absolute = /^https?:\/\/([^/?#]*)/i.exec(url);
  if (!absolute) return url;
  req.headers.host = absolute[1];
  const rest = url.slice(absolute[0].length);
  req.url = rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
  return req.url;
}
