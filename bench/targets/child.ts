/**
 * The contract between the harness and a target child process.
 *
 * A target entry starts its server, then prints exactly one JSON line `{"endpoint": "..."}`
 * (a multi-region target adds `"regions": {"eu-west-1": "http://..."}`, every region it runs,
 * and `"global": "http://..."` when it also runs a global endpoint)
 * on stdout (anything else on stdout is ignored by the parent, so print logs to stderr). It
 * stops when the parent closes its stdin (which also happens when the parent dies, so no
 * orphan keeps running) or on SIGTERM/SIGINT.
 *
 * The parent passes the data directory as `BENCH_DATA_DIR` and the credentials clients will
 * sign with as `BENCH_ACCESS_KEY_ID` / `BENCH_SECRET_ACCESS_KEY`, and the regions a
 * multi-region target should start as `BENCH_REGIONS` (comma-separated) when a scenario asks,
 * and the global endpoint's router settings as `BENCH_GLOBAL` (JSON) when it wants one.
 */

export interface StartedServer {
  endpoint: string;
  /** Endpoint by region name, for a target that runs several. */
  regions?: Record<string, string>;
  /** The global endpoint, when it runs one. */
  global?: string;
  close(): Promise<void>;
}

export interface ReadyLine {
  endpoint: string;
  regions?: Record<string, string>;
  global?: string;
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this file is started by bench/run.ts`);
  return value;
}

export function dataDirFromEnv(): string {
  return requireEnv('BENCH_DATA_DIR');
}

export async function serveUntilParentExits(start: () => Promise<StartedServer>): Promise<void> {
  let server: StartedServer;
  try {
    server = await start();
  } catch (err) {
    process.stderr.write(`target failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  }
  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    // A server that hangs on close must not keep the bench waiting: the parent also kills.
    const timer = setTimeout(() => process.exit(0), 3000);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  const ready: ReadyLine = { endpoint: server.endpoint, regions: server.regions, global: server.global };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}
