/**
 * The baseline: the least an object server can do on this machine. PUT streams the body to
 * a new file, fsyncs it and answers 200; GET streams the file back. No auth, no metadata, no
 * hashing, no rename: whatever Meridian does beyond this is overhead to be justified.
 *
 * Path-style only: `PUT /bucket` makes a directory, `PUT /bucket/key` writes one file per key
 * (the key is percent-encoded into a single file name).
 */
import { createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { dataDirFromEnv, serveUntilParentExits } from './child.ts';

const root = dataDirFromEnv();
let etagCounter = 0;

function split(url: string): { bucket: string; key: string } {
  const pathname = url.split('?', 1)[0];
  const slash = pathname.indexOf('/', 1);
  if (slash < 0) return { bucket: decodeURIComponent(pathname.slice(1)), key: '' };
  return {
    bucket: decodeURIComponent(pathname.slice(1, slash)),
    key: decodeURIComponent(pathname.slice(slash + 1)),
  };
}

function filePath(bucket: string, key: string): string {
  return path.join(root, encodeURIComponent(bucket), encodeURIComponent(key));
}

async function putObject(req: http.IncomingMessage, file: string): Promise<number> {
  // `flush: true` fsyncs the file before it is closed, and pipeline waits for the close.
  await pipeline(req, createWriteStream(file, { flush: true }));
  return ++etagCounter;
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { bucket, key } = split(req.url ?? '/');
  if (req.method === 'PUT' && bucket && !key) {
    await mkdir(path.join(root, encodeURIComponent(bucket)), { recursive: true });
    req.resume();
    res.writeHead(200, { 'content-length': 0 }).end();
  } else if (req.method === 'PUT' && key) {
    const n = await putObject(req, filePath(bucket, key));
    res.writeHead(200, { etag: `"${n.toString(16).padStart(32, '0')}"`, 'content-length': 0 });
    res.end();
  } else if ((req.method === 'GET' || req.method === 'HEAD') && key) {
    let fh: FileHandle;
    try {
      fh = await open(filePath(bucket, key), 'r');
    } catch {
      res.writeHead(404, { 'content-length': 0 }).end();
      return;
    }
    let size: number;
    try {
      size = (await fh.stat()).size;
    } catch (err) {
      await fh.close();
      throw err;
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD' || size === 0) {
      await fh.close();
      res.end();
    } else {
      // The stream closes the handle. A bounded range saves the read that finds end-of-file.
      await pipeline(fh.createReadStream({ start: 0, end: size - 1 }), res);
    }
  } else {
    req.resume();
    res.writeHead(405, { 'content-length': 0 }).end();
  }
}

await serveUntilParentExits(async () => {
  await mkdir(root, { recursive: true });
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      process.stderr.write(`baseline: ${String(err)}\n`);
      if (!res.headersSent) res.writeHead(500, { 'content-length': 0 });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});
