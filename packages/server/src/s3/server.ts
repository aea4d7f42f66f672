import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Catalog } from '../catalog/catalog.ts';
import { S3Error, isS3Error } from '../core/errors.ts';
import type { FaultStore } from '../core/faults.ts';
import type { Logger } from '../core/log.ts';
import type { ProcessMetrics, StoreStats } from '../core/metrics.ts';
import type { BucketRecord, ObjectEngine, ObjectVersion, PublicAccessBlock } from '../storage/types.ts';
import { parseAddress } from './address.ts';
import { createAuthenticator, type AuthResult, type Authenticator, type SignedRequest } from './auth/sigv4.ts';
import { requestBody, type RequestBody } from './body.ts';
import type { Handler, S3Context } from './context.ts';
import { Forwarder } from './forward.ts';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './handlers/bucket.ts';
import { deleteObjects } from './handlers/delete-objects.ts';
import { listObjects, listObjectsV2 } from './handlers/list.ts';
import { deleteObject, getObject, headObject, putObject } from './handlers/object.ts';
import { getBucketVersioning, listObjectVersions, putBucketVersioning } from './handlers/versioning.ts';
import { getBucketAcl, getObjectAcl, putBucketAcl, putObjectAcl } from './handlers/acl.ts';
import {
  deleteBucketOwnershipControls,
  getBucketOwnershipControls,
  putBucketOwnershipControls,
} from './handlers/ownership.ts';
import { getObjectAttributes } from './handlers/attributes.ts';
import { copyObject } from './handlers/copy.ts';
import { deleteBucketReplication, getBucketReplication, putBucketReplication } from './handlers/replication.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './handlers/multipart.ts';
import {
  deleteBucketTagging,
  deleteObjectTagging,
  getBucketTagging,
  getObjectTagging,
  putBucketTagging,
  putObjectTagging,
} from './handlers/tagging.ts';
import { ACCESS_POINT_BLOCK_HEADER, authorize, decodeAccessPointBlock, type Principal } from './authorize.ts';
import { canonicalUserId } from './handlers/bucket.ts';
import {
  deleteBucketPolicy,
  deletePublicAccessBlock,
  getBucketPolicy,
  getBucketPolicyStatus,
  getPublicAccessBlock,
  putBucketPolicy,
  putPublicAccessBlock,
} from './handlers/policy.ts';
import {
  answerClientError,
  closeGracefully,
  idleBodyTimeout,
  listenOn,
  serverTimeouts,
  startRequest,
  type StartedRequest,
} from './http-edge.ts';
import { isReplicaRequest } from './replica-protocol.ts';
import { sendError } from './respond.ts';
import { matchRoute, type Route, type Target } from './router.ts';

export const HANDLERS: Readonly<Record<string, Handler>> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  DeleteObjects: deleteObjects,
  GetBucketVersioning: getBucketVersioning,
  PutBucketVersioning: putBucketVersioning,
  ListObjectVersions: listObjectVersions,
  CopyObject: copyObject,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  ListMultipartUploads: listMultipartUploads,
  GetObjectAttributes: getObjectAttributes,
  GetObjectTagging: getObjectTagging,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  GetBucketTagging: getBucketTagging,
  PutBucketTagging: putBucketTagging,
  DeleteBucketTagging: deleteBucketTagging,
  GetBucketAcl: getBucketAcl,
  PutBucketAcl: putBucketAcl,
  GetObjectAcl: getObjectAcl,
  PutObjectAcl: putObjectAcl,
  GetBucketReplication: getBucketReplication,
  PutBucketReplication: putBucketReplication,
  DeleteBucketReplication: deleteBucketReplication,
  PutBucketPolicy: putBucketPolicy,
  GetBucketPolicy: getBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  GetBucketPolicyStatus: getBucketPolicyStatus,
  PutPublicAccessBlock: putPublicAccessBlock,
  GetPublicAccessBlock: getPublicAccessBlock,
  DeletePublicAccessBlock: deletePublicAccessBlock,
  PutBucketOwnershipControls: putBucketOwnershipControls,
  GetBucketOwnershipControls: getBucketOwnershipControls,
  DeleteBucketOwnershipControls: deleteBucketOwnershipControls,
};

/**
 * Whom a request is judged as and with what: its own authentication, its principal, and the
 * Block Public Access of the access point it came through, if any.
 */
interface Caller {
  auth: AuthResult;
  principal: Principal | 'service';
  accessPointBlock?: PublicAccessBlock;
}

/** A request the MRAP router hands to a region of its own process (see `serveRouted`). */
export interface RoutedRequest {
  bucket: string;
  /** the decoded key, or undefined for a bucket operation */
  key?: string;
  rawQuery: string;
  /** the caller's verified signature */
  auth: SignedRequest;
  accessPointBlock: PublicAccessBlock;
}

/** A request under way: its ids, log record, and the resource its errors name. */
type Started = StartedRequest & { resource: string };

/** S3 keys are at most 1024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

export interface RegionServerOptions {
  region: string;
  /**
   * An upload that sends nothing for this long is answered 400 RequestTimeout and closed,
   * as S3 does after 20 s.
   */
  idleTimeoutMs?: number;
  engine: ObjectEngine;
  catalog: Catalog;
  domains: readonly string[];
  log: Logger;
  /** Clock for signature checks (tests move it). */
  now?: () => Date;
  /** Operator endpoints under `/_meridian/` served by parts above this layer (replication). */
  internal?: InternalHandler;
  /** Injected faults: while this region is down it refuses connections; while slow it answers late. */
  faults?: FaultStore;
  /** The process's Prometheus metrics: this region's requests are counted there, and `/metrics` serves them. */
  metrics?: ProcessMetrics;
  /** What the region stores (`/_meridian/status`); read cheaply, on demand. */
  storeStats?: () => StoreStats;
  /**
   * Readiness (`/_meridian/ready`): the names of what is not ready yet (stores closed, catalog
   * not loaded); empty when the region can serve.
   */
  notReady?: () => string[];
}

/** Answers an operator request, or undefined if it knows no such endpoint. */
export type InternalHandler = (req: {
  method: string;
  path: string;
  query: URLSearchParams;
}) => Promise<{ status: number; body: unknown; contentType?: string } | undefined>;

/** The S3 endpoint of one region: a node:http server in front of that region's engine. */
export class RegionServer {
  readonly region: string;
  readonly #opts: RegionServerOptions;
  readonly #server: Server;
  readonly #authenticate: Authenticator;
  readonly #forwarder = new Forwarder();
  readonly #log: Logger;
  /** The request in progress on each busy socket: a parse error there is answered through it. */
  readonly #busy = new WeakMap<Duplex, { req: IncomingMessage; res: ServerResponse; requestId: string; hostId: string }>();
  #inFlight = 0;
  readonly #startedAt = Date.now();

  constructor(opts: RegionServerOptions) {
    this.region = opts.region;
    this.#opts = opts;
    this.#log = opts.log.child({ region: opts.region });
    this.#authenticate = createAuthenticator((id) => opts.catalog.accessKey(id));
    this.#server = createServer(serverTimeouts(opts.idleTimeoutMs ?? 20_000), (req, res) => {
      void this.#handle(req, res);
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#clientError(err, socket));
    if (opts.faults) {
      const faults = opts.faults;
      this.#server.on('connection', (socket: Duplex) => {
        if (faults.isDown(this.region)) socket.destroy();
      });
    }
  }

  #clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    answerClientError(err, socket, this.#busy.get(socket), this.#log);
  }


  async listen(port: number, host: string): Promise<string> {
    const endpoint = await listenOn(this.#server, port, host);
    return endpoint;
  }


  /** Stops accepting connections, lets requests in flight finish, then closes idle sockets. */
  async close(): Promise<void> {
    await closeGracefully(this.#server);
    await this.#forwarder.close();
  }


  /**
   * `/_meridian/...`: health, readiness and Prometheus metrics for anyone; everything else
   * (replication metrics, retries) for signed requests of the world's own keys, in JSON.
   */
  async #internal(req: IncomingMessage, res: ServerResponse, rawPath: string, rawQuery: string): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    if (rawPath === '/_meridian/health') return send(200, { status: 'ok', region: this.region });
    if (rawPath === '/_meridian/ready') {
      const waiting = this.#opts.notReady?.() ?? [];
      if (waiting.length > 0) return send(503, { status: 'not ready', region: this.region, waiting });
      return send(200, { status: 'ready', region: this.region });
    }
    if (rawPath === '/_meridian/metrics' && this.#opts.metrics) return this.#sendMetrics(res);
    // Prometheus scrapes without signing; everything else acts on the world.
    if (rawPath !== '/_meridian/metrics') {
      const auth = this.#authenticate({
        method: req.method ?? 'GET',
        rawPath,
        rawQuery,
        headers: req.headers,
        now: this.#opts.now?.() ?? new Date(),
      });
      if (auth.kind === 'anonymous') throw new S3Error('AccessDenied');
    }
    if (rawPath === '/_meridian/status' && req.method === 'GET') return send(200, this.#status());
    const answer = await this.#opts.internal?.({
      method: req.method ?? 'GET',
      path: rawPath,
      query: new URLSearchParams(rawQuery),
    });
    if (!answer) return send(404, { error: 'NotFound', path: rawPath });
    if (typeof answer.body === 'string') {
      res.writeHead(answer.status, {
        'content-type': answer.contentType ?? 'text/plain; charset=utf-8',
        'content-length': String(Buffer.byteLength(answer.body)),
      });
      res.end(answer.body);
      return;
    }
    send(answer.status, answer.body);
  }

  /** `/_meridian/status`: what this region holds, for `meridian status`. */
  #status(): unknown {
    return {
      region: this.region,
      uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
      store: this.#opts.storeStats?.(),
      buckets: this.#opts.engine.listBuckets().map((b) => ({
        name: b.name,
        versioning: b.versioning,
        replication: b.replication !== undefined,
        createdAt: new Date(b.createdAt).toISOString(),
      })),
    };
  }

  /**
   * `/metrics` belongs to S3 too: path-style, it is the bucket named `metrics`. Only a plain
   * Prometheus scrape gets the metrics: an unsigned GET of exactly `/metrics` (no
   * Authorization header, no X-Amz-Signature in the query, not a virtual-hosted bucket's
   * key). A signed request for bucket `metrics` is S3's, and an unsigned one could only have
   * been refused (anonymous requests get AccessDenied).
   */
  #isScrape(req: IncomingMessage, rawPath: string, rawQuery: string): boolean {
    return (
      this.#opts.metrics !== undefined &&
      rawPath === '/metrics' &&
      req.method === 'GET' &&
      req.headers.authorization === undefined &&
      !/(^|&)x-amz-signature=/i.test(rawQuery) &&
      parseAddress(req.headers.host, '/', this.#opts.domains).bucket === undefined
    );
  }

  async #sendMetrics(res: ServerResponse): Promise<void> {
    const metrics = this.#opts.metrics!;
    const text = await metrics.render(this.region);
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  #operationOf(req: IncomingMessage, rawPath: string, rawQuery: string): string {
    try {
      const address = parseAddress(req.headers.host, rawPath, this.#opts.domains);
      const match = matchRoute({
        method: req.method ?? 'GET',
        target: address.key !== undefined ? 'object' : address.bucket !== undefined ? 'bucket' : 'service',
        query: new URLSearchParams(rawQuery),
        hasHeader: (name) => req.headers[name] !== undefined,
      });
      return match.kind === 'route' ? match.route.op : 'Unknown';
    } catch {
      return 'Unknown';
    }
  }




  /**
   * Authorization (s3/authorize.ts): requests on a bucket of this region are checked against
   * its policy, ACLs and Block Public Access (the bucket's and its owner's account's). The
   * world's service identity is trusted; an anonymous request gets in only where a policy or
   * an ACL grants it, reads and writes alike (it then acts as the bucket owner's account,
   * without a signature to check a body against; see anonymousStandIn).
   * Returns the request's signature, or for an admitted anonymous request a stand-in for it.
   */
  #admit(
    req: IncomingMessage,
    route: Route,
    caller: Caller,
    bucket: BucketRecord | undefined,
    key: string | undefined,
    query: URLSearchParams,
  ): SignedRequest {
    const denied = () =>
      new S3Error('AccessDenied', undefined, { headers: bucket ? { 'x-amz-bucket-region': this.region } : {} });
    const { auth, principal } = caller;
    if (principal === 'service') return auth as SignedRequest;
    if (!bucket) {
      // No bucket here to judge by (ListBuckets, CreateBucket, or NoSuchBucket to come).
      if (principal.type === 'anonymous') throw denied();
      return auth as SignedRequest;
    }
    try {
      this.#judge(req, caller, principal, {
        op: route.op,
        action: replicaAction(req) ?? route.action,
        bucket,
        key,
        versionId: query.get('versionId') ?? undefined,
        query,
      });
    } catch (err) {
      // Refused, but told where the bucket is, as S3 does.
      if (err instanceof S3Error && err.code === 'AccessDenied') throw denied();
      throw err;
    }
    if (auth.kind === 'signed') return auth;
    return anonymousStandIn(bucket.owner, req);
  }

  /**
   * Whom a request sent to this endpoint is judged as. The service identity itself
   * (replication, internal calls) is trusted ('service'); forwarding for a client (the MRAP
   * router of another process, a copy from another region), it is judged as the account it
   * names in `x-meridian-on-behalf-of`, with the access point's Block Public Access it passes.
   */
  #callerOf(req: IncomingMessage, auth: AuthResult): Caller {
    if (auth.kind !== 'signed') return { auth, principal: { type: 'anonymous' } };
    if (auth.credential.service === true) {
      const onBehalf = req.headers['x-meridian-on-behalf-of'];
      if (typeof onBehalf !== 'string') return { auth, principal: 'service' };
      return {
        auth,
        principal: { type: 'account', account: onBehalf, canonicalId: canonicalUserId(onBehalf) },
        accessPointBlock: decodeAccessPointBlock(req.headers[ACCESS_POINT_BLOCK_HEADER]),
      };
    }
    const account = auth.credential.accountId;
    return { auth, principal: { type: 'account', account, user: auth.credential.user, canonicalId: canonicalUserId(account) } };
  }

  /** Throws AccessDenied unless `principal` may do `op` to the bucket (or its key). */
  #judge(
    req: IncomingMessage,
    caller: Caller,
    principal: Principal,
    request: { op: string; action: string; bucket: BucketRecord; key?: string; versionId?: string; query: URLSearchParams },
  ): void {
    const { bucket, key, versionId, query } = request;
    const { auth } = caller;
    // The version the request acts on (the named one, else the current one), looked up once.
    let found: { v: ObjectVersion | undefined } | undefined;
    const object = (): ObjectVersion | undefined => {
      if (key === undefined) return undefined;
      found ??= { v: this.#opts.engine.getVersion(bucket.name, key, versionId ?? '') ?? this.#currentVersion(bucket.name, key) };
      return found.v;
    };
    authorize({
      op: request.op,
      action: request.action,
      bucket,
      key,
      principal,
      ownerCanonicalId: canonicalUserId(bucket.owner),
      accountBlock: this.#opts.catalog.accountPublicAccessBlock(bucket.owner),
      // Through an MRAP: the access point's settings apply too.
      accessPointBlock: caller.accessPointBlock,
      keys: {
        'aws:SourceIp': req.socket.remoteAddress ?? '',
        'aws:SecureTransport': false,
        's3:prefix': query.get('prefix') ?? undefined,
        's3:delimiter': query.get('delimiter') ?? undefined,
        's3:max-keys': query.get('max-keys') ?? undefined,
        's3:VersionId': versionId,
        's3:x-amz-acl': typeof req.headers['x-amz-acl'] === 'string' ? req.headers['x-amz-acl'] : undefined,
        's3:authType': auth.kind === 'anonymous' ? undefined : auth.presigned ? 'REST-QUERY-STRING' : 'REST-HEADER',
        's3:signatureversion': auth.kind === 'anonymous' ? undefined : 'AWS4-HMAC-SHA256',
      },
      objectAcl: () => {
        const current = object();
        // An object without an ACL of its own is private to its owner.
        return current?.acl ?? [{ grantee: { type: 'CanonicalUser', id: canonicalUserId(current?.owner ?? bucket.owner) }, permission: 'FULL_CONTROL' }];
      },
      objectOwner: () => object()?.owner,
    });
  }

  #currentVersion(bucket: string, key: string): ObjectVersion | undefined {
    try {
      return this.#opts.engine.headObject({ bucket, key });
    } catch {
      return undefined;
    }
  }

  /** Requests this endpoint is serving right now (replication yields to them). */
  get inFlight(): number {
    return this.#inFlight;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(await this.#passFaults())) {
      // A region taken down drops connections that were already open, too.
      req.socket.destroy();
      return;
    }
    const started = this.#begin(req, res);
    const { record, rawPath, rawQuery } = started;
    await this.#guarded(req, res, started, async () => {
      if (this.#isScrape(req, rawPath, rawQuery)) {
        record.operation = 'Metrics';
        record.internal = true;
        await this.#sendMetrics(res);
        return;
      }
      if (rawPath.startsWith('/_meridian/')) {
        record.operation = `Meridian:${rawPath.slice('/_meridian/'.length)}`;
        record.internal = true;
        await this.#internal(req, res, rawPath, rawQuery);
        return;
      }
      const address = parseAddress(req.headers.host, rawPath, this.#opts.domains);
      this.#addressed(started, address);
      const query = new URLSearchParams(rawQuery);
      const auth = this.#authenticate({
        method: req.method ?? 'GET',
        rawPath,
        rawQuery,
        headers: req.headers,
        now: this.#opts.now?.() ?? new Date(),
      });
      const route = this.#match(req, address, query);
      record.operation = route.op;
      if (await this.#routeToRegion(req, res, route, address.bucket, auth)) return;
      await this.#serve(req, res, started, { address, route, query, caller: this.#callerOf(req, auth) });
    });
  }

  /**
   * A request the MRAP router of this process hands over for this region's bucket: served here
   * directly, as if it had been sent to this endpoint, without a second HTTP hop. The router
   * has authenticated the caller (`auth`, whose signing key also decodes a chunked body) and
   * checked the access point's policy; the region judges the caller's account by its own rules
   * and the access point's Block Public Access. Resolves false, before touching the request,
   * when this region is down: the router then tries another.
   */
  async serveRouted(req: IncomingMessage, res: ServerResponse, routed: RoutedRequest): Promise<boolean> {
    if (!(await this.#passFaults())) return false;
    const started = this.#begin(req, res);
    await this.#guarded(req, res, started, async () => {
      const address = { bucket: routed.bucket, key: routed.key };
      this.#addressed(started, address);
      const query = new URLSearchParams(routed.rawQuery);
      const route = this.#match(req, address, query);
      started.record.operation = route.op;
      const account = routed.auth.credential.accountId;
      await this.#serve(req, res, started, {
        address,
        route,
        query,
        caller: {
          auth: routed.auth,
          principal: { type: 'account', account, canonicalId: canonicalUserId(account) },
          accessPointBlock: routed.accessPointBlock,
        },
      });
    });
    return true;
  }

  /** Injected faults: false when this region is down; a slowed region waits first. */
  async #passFaults(): Promise<boolean> {
    const faults = this.#opts.faults;
    if (!faults) return true;
    if (faults.isDown(this.region)) return false;
    const delay = faults.delayMs(this.region);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    return true;
  }

  /** Request ids, log and metrics, the in-flight count, and the idle timeout of a body. */
  #begin(req: IncomingMessage, res: ServerResponse): Started {
    const started = startRequest(req, res, this.#busy, {
      scope: this.region,
      metrics: this.#opts.metrics,
      log: this.#log,
    });
    const { requestId, hostId, record, rawPath } = started;
    this.#inFlight++;
    res.once('close', () => this.#inFlight--);
    idleBodyTimeout(req, res, this.#opts.idleTimeoutMs ?? 20_000, {
      requestId,
      hostId,
      resource: rawPath,
      log: this.#log,
      onTimeout: () => (record.errorCode = 'RequestTimeout'),
    });
    return { ...started, resource: rawPath };
  }

  /** Runs `serve`, answering whatever it throws with S3's error document. */
  async #guarded(req: IncomingMessage, res: ServerResponse, started: Started, serve: () => Promise<void>): Promise<void> {
    const { requestId, hostId, record, rawPath, rawQuery } = started;
    try {
      await serve();
    } catch (err) {
      if (isS3Error(err)) record.errorCode = err.code;
      // Refused before its route was looked up (a bad signature): still named in logs and metrics.
      if (record.operation === 'Unknown') record.operation = this.#operationOf(req, rawPath, rawQuery);
      sendError(req, res, err, { requestId, hostId, resource: started.resource, log: this.#log });
    } finally {
      // An answer given before the whole body was read (an error, a failed precondition)
      // must not leave the client stuck sending into a full window: read and discard the rest.
      if (!req.complete && !req.destroyed) {
        req.unpipe();
        req.resume();
      }
    }
  }

  /** Names the bucket and key in logs and errors; refuses keys longer than S3 allows. */
  #addressed(started: Started, address: { bucket?: string; key?: string }): void {
    started.record.bucket = address.bucket;
    started.record.key = address.key;
    started.resource =
      address.bucket === undefined ? '/' : `/${address.bucket}${address.key === undefined ? '' : `/${address.key}`}`;
    if (address.key !== undefined && Buffer.byteLength(address.key) > MAX_KEY_BYTES) {
      throw new S3Error('KeyTooLongError', undefined, {
        fields: { MaxSizeAllowed: String(MAX_KEY_BYTES), Size: String(Buffer.byteLength(address.key)) },
      });
    }
  }

  /** The operation a request names, from the route table. */
  #match(req: IncomingMessage, address: { bucket?: string; key?: string }, query: URLSearchParams): Route {
    const target: Target = address.key !== undefined ? 'object' : address.bucket !== undefined ? 'bucket' : 'service';
    const match = matchRoute({
      method: req.method ?? 'GET',
      target,
      query,
      hasHeader: (name) => req.headers[name] !== undefined,
    });
    if (match.kind === 'unknown-subresource') {
      throw new S3Error('NotImplemented', `The ${match.sub} subresource is not implemented`);
    }
    if (match.kind === 'method-not-allowed') {
      throw new S3Error('MethodNotAllowed', undefined, {
        fields: { Method: req.method ?? '', ResourceType: target === 'service' ? 'SERVICE' : target.toUpperCase() },
      });
    }
    return match.route;
  }

  /** Authorizes the request for this region's bucket and runs its handler. */
  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    started: Started,
    request: { address: { bucket?: string; key?: string }; route: Route; query: URLSearchParams; caller: Caller },
  ): Promise<void> {
    const { address, route, query, caller } = request;
    const bucketRecord = address.bucket !== undefined ? this.#opts.engine.getBucket(address.bucket) : undefined;
    const signed = this.#admit(req, route, caller, bucketRecord, address.key, query);
    const { principal } = caller;
    const handler = HANDLERS[route.op];
    if (!handler) {
      throw new S3Error('NotImplemented', `${route.op} is not implemented`, { fields: { Operation: route.op } });
    }
    let body: RequestBody | undefined;
    const ctx: S3Context = {
      req,
      res,
      requestId: started.requestId,
      route,
      bucket: address.bucket,
      key: address.key,
      query,
      auth: signed,
      accountId: actingAccount(signed, req),
      principal,
      accessPointBlock: caller.accessPointBlock,
      authorizeRead: (source, sourceKey, versionId) => {
        if (principal === 'service') return;
        this.#judge(req, caller, principal, {
          op: 'GetObject',
          action: versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion',
          bucket: source,
          key: sourceKey,
          versionId,
          query: new URLSearchParams(),
        });
      },
      region: this.region,
      engine: this.#opts.engine,
      catalog: this.#opts.catalog,
      body: () => {
        if (body) throw new Error('request body read twice');
        body = requestBody(req, signed);
        return body;
      },
      log: this.#log,
    };
    await handler(ctx);
  }

  /**
   * The multi-region namespace, answered exactly as S3 does. Returns true when the request
   * was passed on to the bucket's region.
   *
   * - No bucket in the path (ListBuckets), or CreateBucket: the signature must be for this region.
   * - A bucket here: the signature must be for this region.
   * - A bucket in region R elsewhere: signed for R -> forwarded to R (so a client that learned
   *   the region from a 301 but keeps one endpoint still succeeds); signed for this region ->
   *   301 PermanentRedirect; signed for any other region -> AuthorizationHeaderMalformed
   *   naming R. Every answer carries `x-amz-bucket-region`.
   */
  async #routeToRegion(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    bucket: string | undefined,
    auth: AuthResult,
  ): Promise<boolean> {
    const location =
      bucket !== undefined && route.op !== 'CreateBucket' ? this.#opts.catalog.lookupBucket(bucket) : undefined;
    const signedFor = auth.kind === 'signed' ? auth.region : undefined;
    if (!location || location.region === this.region || route.op === 'GetBucketLocation') {
      if (signedFor !== undefined && signedFor !== this.region) {
        throw wrongRegion(auth as SignedRequest, this.region, location ? { 'x-amz-bucket-region': location.region } : {});
      }
      return false;
    }
    const regionHeader = { 'x-amz-bucket-region': location.region };
    if (signedFor === location.region) {
      const target = this.#opts.catalog.region(location.region);
      if (!target) throw new S3Error('ServiceUnavailable', `Region ${location.region} is not reachable.`);
      await this.#forwarder.forward(req, res, target.endpoint);
      return true;
    }
    if (signedFor === undefined || signedFor === this.region) {
      const endpoint = this.#opts.catalog.region(location.region)?.endpoint ?? '';
      throw new S3Error('PermanentRedirect', undefined, {
        fields: { Endpoint: endpoint.replace(/^https?:\/\//, ''), Bucket: location.name },
        headers: regionHeader,
      });
    }
    throw wrongRegion(auth as SignedRequest, location.region, regionHeader);
  }
}

/**
 * The account a request acts for: its signer's, or, for the world's own service identity
 * (the MRAP router forwarding a client's request), the account it names in
 * `x-meridian-on-behalf-of`. No user key can use that header.
 */
/**
 * A replicated write is judged by the replication actions S3's bucket policies name:
 * s3:ReplicateObject, s3:ReplicateDelete (delete markers), s3:ReplicateTags (tag and ACL changes).
 */
function replicaAction(req: IncomingMessage): string | undefined {
  if (!isReplicaRequest(req.headers)) return undefined;
  if (req.headers['x-meridian-delete-marker'] === 'true') return 's3:ReplicateDelete';
  if (req.headers['x-meridian-operation'] === 'metadata') return 's3:ReplicateTags';
  return 's3:ReplicateObject';
}

/**
 * The request an admitted anonymous request acts as: the bucket owner's account. So what an
 * anonymous writer creates is owned by the bucket owner. AWS does the same under
 * BucketOwnerEnforced (the default); with ACLs enabled it records the anonymous principal as
 * owner instead, and the bucket owner then cannot even read the object until it is granted
 * access. We keep the bucket owner there too: an object its own bucket's owner cannot read or
 * re-ACL is what users of such buckets notice and complain about, never what they want.
 *
 * No signature covers the payload: it is taken as sent (UNSIGNED-PAYLOAD), or decoded as
 * aws-chunked with an unsigned trailer when the client framed it so, and verified against
 * whatever the client offered — `x-amz-content-sha256`, Content-MD5, `x-amz-checksum-*`.
 */
function anonymousStandIn(owner: string, req: IncomingMessage): SignedRequest {
  const sha = req.headers['x-amz-content-sha256'];
  // Chunk signatures need a signing key; an unsigned request has none to check them with.
  if (typeof sha === 'string' && sha.startsWith('STREAMING-AWS4-')) throw new S3Error('AccessDenied');
  const trailer = req.headers['x-amz-trailer'] !== undefined && /aws-chunked/i.test(String(req.headers['content-encoding'] ?? ''));
  const payload: SignedRequest['payload'] =
    sha === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' || (sha === undefined && trailer)
      ? { kind: 'streaming-unsigned-trailer' }
      : typeof sha === 'string' && /^[0-9a-fA-F]{64}$/.test(sha)
        ? { kind: 'sha256', hex: sha.toLowerCase() }
        : { kind: 'unsigned' };
  return {
    kind: 'signed',
    credential: { accessKeyId: '', secretAccessKey: '', accountId: owner },
    region: '',
    service: 's3',
    amzDate: '',
    scope: '',
    signature: '',
    signingKey: Buffer.alloc(0),
    payload,
    presigned: false,
  };
}

function actingAccount(auth: SignedRequest, req: IncomingMessage): string {
  const onBehalf = req.headers['x-meridian-on-behalf-of'];
  if (auth.credential.service === true && typeof onBehalf === 'string' && onBehalf !== '') return onBehalf;
  return auth.credential.accountId;
}

function wrongRegion(auth: SignedRequest, expected: string, headers: Record<string, string>): S3Error {
  if (auth.presigned) {
    return new S3Error(
      'AuthorizationQueryParametersError',
      `Error parsing the X-Amz-Credential parameter; the region '${auth.region}' is wrong; expecting '${expected}'`,
      { fields: { Region: expected }, headers },
    );
  }
  return new S3Error(
    'AuthorizationHeaderMalformed',
    `The authorization header is malformed; the region '${auth.region}' is wrong; expecting '${expected}'`,
    { fields: { Region: expected }, headers },
  );
}
