import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { listenOn } from '../../src/s3/http-edge.ts';

export interface LocalhostProxy {
  /** `http://127.0.0.1:PORT`: the value for a child process's `HTTP_PROXY`. */
  url: string;
  /** The `Host` of every request passed on, in order (`111122223333.localhost:9000`). */
  hosts: string[];
  close(): Promise<void>;
}

/**
 * An HTTP forward proxy that resolves `*.localhost` to 127.0.0.1, for clients that run in
 * another process and resolve names with the system's resolver (the AWS CLI). S3 Control puts
 * the account id in front of the endpoint's host (`111122223333.localhost:PORT`), which plain
 * glibc does not resolve. A client given `HTTP_PROXY=<url>` sends its request here in absolute
 * form; the proxy passes it to 127.0.0.1:PORT unchanged (same method, path, headers and body,
 * `Host` included), which is what the server would receive had the name resolved. Any other host
 * is refused, so a test never reaches the network.
 *
 * @example
 *   const proxy = await startLocalhostProxy();
 *   execFile('aws', ['s3control', 'list-multi-region-access-points', ...], { env: { ...env, HTTP_PROXY: proxy.url } });
 */
export async function startLocalhostProxy(): Promise<LocalhostProxy> {
  const hosts: string[] = [];
  const server = createServer((req, res) => {
    // Absolute form: `http://authority/path?query`. The path is passed on as sent (a URL parser
    // would normalize it, and the client signed it as sent).
    const m = /^http:\/\/([^/?#]+)(.*)$/.exec(req.url ?? '');
    const authority = m?.[1] ?? '';
    const hostname = authority.replace(/:\d+$/, '');
    if (!m || !(hostname === 'localhost' || hostname.endsWith('.localhost'))) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`this proxy only reaches *.localhost, not ${req.url}\n`);
      return;
    }
    hosts.push(req.headers.host ?? authority);
    const port = Number(/:(\d+)$/.exec(authority)?.[1] ?? 80);
    const headers: IncomingHttpHeaders = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = request({ host: '127.0.0.1', port, method: req.method, path: m[2] || '/', headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}\n`);
    });
    req.pipe(upstream);
  });
  const url = await listenOn(server, 0, '127.0.0.1');
  return {
    url,
    hosts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
