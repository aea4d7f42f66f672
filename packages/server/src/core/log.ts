import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Pretty, human output (the default when stdout is a TTY). */
  pretty?: boolean;
  /** Where JSON lines go instead of stdout (tests capture them here). */
  destination?: DestinationStream;
}

/** Query parameters of presigned URLs that carry a signature or a credential. */
const SIGNED_QUERY = /\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=[^&\s"]*/gi;

/**
 * Builds the process logger: one JSON object per line, or, on a TTY, one readable line per
 * entry. Secrets and signatures are redacted wherever they appear: the Authorization header,
 * secret keys, and the signature and credential of presigned URLs logged with a request.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const pretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const options = {
    level: opts.level ?? process.env.MERIDIAN_LOG_LEVEL ?? 'info',
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
        return typeof object.url === 'string' ? { ...object, url: object.url.replace(SIGNED_QUERY, '$1=[redacted]') } : object;
      },
    },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, singleLine: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' },
          },
        }
      : {}),
  };
  return opts.destination && !pretty ? pino(options, opts.destination) : pino(options);
}
