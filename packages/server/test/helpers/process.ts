import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const MERIDIAN_BIN = fileURLToPath(new URL('../../bin/meridian.js', import.meta.url));

export interface MeridianProcess {
  proc: ChildProcess;
  /** Everything the process printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves the region endpoints once the world is up (with `--json`), or the banner text. */
  ready: Promise<{ regions: Array<{ name: string; endpoint: string }> }>;
  /** Resolves the exit code (or signal) once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the real `meridian` command in a child process. */
export function spawnMeridian(args: string[], env: NodeJS.ProcessEnv = {}): MeridianProcess {
  const proc = spawn(process.execPath, [MERIDIAN_BIN, ...args], {
    // The global endpoint on a free port, so worlds of tests running side by side never collide.
    env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn', MERIDIAN_GLOBAL_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(proc, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const ready = new Promise<{ regions: Array<{ name: string; endpoint: string }> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`meridian did not start in time:\n${out}\n${err}`)), 30_000);
    const check = () => {
      const json = out.split('\n').find((l) => l.startsWith('{') && l.includes('"ready"'));
      if (json) {
        clearTimeout(timer);
        resolve(JSON.parse(json) as { regions: Array<{ name: string; endpoint: string }> });
        return;
      }
      const urls = [...out.matchAll(/^\s+([a-z]{2}(?:-[a-z0-9]+)+-\d+)\s+(http:\/\/\S+)$/gm)];
      if (out.includes('Press Ctrl-C to stop') && urls.length > 0) {
        clearTimeout(timer);
        resolve({ regions: urls.map((m) => ({ name: m[1], endpoint: m[2] })) });
      }
    };
    proc.stdout!.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`meridian exited (${code ?? signal}) before it was ready:\n${out}\n${err}`));
    });
  });
  ready.catch(() => undefined);
  return { proc, stdout: () => out, stderr: () => err, ready, exited };
}
