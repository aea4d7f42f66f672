import { pino, type DestinationStream, type Logger } from 'pino';
import { isColorSupported, prettyFactory } from 'pino-pretty';
import { ConfigError } from './config.ts';

export type { Logger };

/** `json`: one JSON object per line (for machines); `pretty`: one readable line per entry. */
export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  level?: string;
  /**
   * The output format. Default: `MERIDIAN_LOG_FORMAT` when set, else `pretty` when logging to
   * stdout and stdout is a terminal, else `json`.
   */
  format?: LogFormat;
  /** The same as `format`: `true` is `pretty`, `false` is `json`. */
  pretty?: boolean;
  /** Where lines go instead of stdout (tests capture them here). */
  destination?: DestinationStream;
  /** Environment to read `MERIDIAN_LOG_LEVEL` and `MERIDIAN_LOG_FORMAT` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** Query parameters of presigned URLs that carry a signature or a credential. */
const SIGNED_QUERY = /\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=[^&\s"]*/gi;

/**
 * The format a logger writes: an explicit `format` (or `pretty`), then the environment's
 * `MERIDIAN_LOG_FORMAT`, then pretty exactly when the lines go to a terminal.
 */
export function logFormat(opts: LogOptions = {}, isTTY = process.stdout.isTTY === true): LogFormat {
  if (opts.format) return opts.format;
  if (opts.pretty !== undefined) return opts.pretty ? 'pretty' : 'json';
  const env = (opts.env ?? process.env).MERIDIAN_LOG_FORMAT?.trim().toLowerCase();
  if (env === 'json' || env === 'pretty') return env;
  if (env) throw new ConfigError(`MERIDIAN_LOG_FORMAT must be json or pretty (got ${env})`);
  return opts.destination === undefined && isTTY ? 'pretty' : 'json';
}

/**
 * Builds the process logger: one JSON object per line, or one readable line per entry
 * (pino-pretty's formatter, applied in this thread as each line is written, so a line is on
 * the terminal before the call returns and none is lost at exit). Secrets and signatures are
 * redacted before either format sees them: the Authorization header, secret keys, and the
 * signature and credential of presigned URLs logged with a request.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const format = logFormat(opts);
  const options = {
    level: opts.level ?? (opts.env ?? process.env).MERIDIAN_LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'headers["x-amz-security-token"]',
        '*.secretAccessKey',
        'secretAccessKey',
      ],
      censor: '[redacted]',
    },
    formatters: {
      log(object: Record<string, unknown>): Record<string, unknown> {
        return typeof object.url === 'string'
          ? { ...object, url: object.url.replace(SIGNED_QUERY, '$1=[redacted]') }
          : object;
      },
    },
  };
  if (format === 'json') return opts.destination ? pino(options, opts.destination) : pino(options);
  const out = opts.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(options, prettyStream(out, { colorize: opts.destination === undefined && isColorSupported }));
}

/** A destination that turns each JSON line pino writes into pino-pretty's one readable line. */
export function prettyStream(out: DestinationStream, opts: { colorize: boolean }): DestinationStream {
  const pretty = prettyFactory({
    colorize: opts.colorize,
    singleLine: true,
    ignore: 'pid,hostname',
    translateTime: 'SYS:HH:MM:ss.l',
  });
  return {
    write(line: string) {
      out.write(pretty(line));
    },
  };
}
