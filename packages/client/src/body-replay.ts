import { createReadStream, ReadStream } from 'node:fs';
import { Readable } from 'node:stream';

/** Default bound on the bytes of a stream body kept so that it can be resent: 5 MiB. */
export const DEFAULT_MAX_REPLAY_BYTES = 5 * 1024 * 1024;

/**
 * Thrown instead of resending to the right region when the request body was a stream that
 * cannot be sent a second time. The message tells the caller how to avoid it.
 */
export class BodyNotReplayableError extends Error {
  override readonly name = 'BodyNotReplayableError';
  constructor(
    message: string,
    /** The wrong-region answer that asked for the resend. */
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** A request body for a first attempt, and a way to get the same bytes again for a second. */
export interface ReplayableBody {
  /** The body to send first (the caller's own, or a recording wrapper around it). */
  readonly body: unknown;
  /** The same bytes again. Rejects with BodyNotReplayableError when they cannot be had. */
  replay(cause: unknown): Promise<unknown>;
  /** The first attempt is over and no replay will be asked for: drop what was recorded. */
  release(): void;
}

/**
 * Makes a request body replayable for one resend:
 * - strings, Buffers, Uint8Arrays, ArrayBuffers and Blobs are replayed as they are;
 * - a file stream (`fs.createReadStream(path)`) is replayed by opening the file again;
 * - any other Node Readable is recorded as it is sent, up to `maxBytes`; a larger one cannot
 *   be replayed (never truncated: the resend is refused with a clear error).
 *
 * @example
 * const b = replayableBody(Readable.from(['a', 'b']), 1024);
 * // send b.body; on a wrong-region answer:
 * const again = await b.replay(err); // Buffer 'ab'
 */
export function replayableBody(body: unknown, maxBytes: number = DEFAULT_MAX_REPLAY_BYTES): ReplayableBody {
  if (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && body instanceof Blob)
  ) {
    return { body, replay: async () => body, release: () => {} };
  }
  if (body instanceof ReadStream && typeof body.path === 'string' && body.bytesRead === 0) {
    const { path, start, end } = body as ReadStream & { start?: number; end?: number };
    return {
      body,
      replay: async () => createReadStream(path, { start, end }),
      release: () => {},
    };
  }
  if (body instanceof Readable) {
    const recording = new RecordingBody(body, maxBytes);
    return { body: recording, replay: (cause) => recording.replay(cause), release: () => recording.release() };
  }
  return {
    body,
    replay: async (cause) => {
      throw new BodyNotReplayableError(
        'The bucket is in another region and the request body (a web stream or other one-shot body) cannot be ' +
          "sent twice. Pass the bucket's region with '@region' (or inRegion()), or send a Buffer or a Node Readable.",
        cause,
      );
    },
    release: () => {},
  };
}

/**
 * Forwards a source stream while keeping a copy of what passed through, up to a bound. Memory
 * stays bounded: past the bound the copy is dropped and only forwarding continues.
 */
class RecordingBody extends Readable {
  readonly #source: Readable;
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #recorded = 0;
  #overflowed = false;
  #ended = false;
  #error: unknown;
  #detached = false;
  #onSettle: (() => void) | undefined;

  constructor(source: Readable, maxBytes: number) {
    super();
    this.#source = source;
    this.#maxBytes = maxBytes;
    source.on('data', (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      this.#record(buf);
      if (!this.#detached && !this.push(buf)) source.pause();
    });
    source.once('end', () => {
      this.#ended = true;
      if (!this.#detached) this.push(null);
      this.#onSettle?.();
    });
    source.once('error', (err) => {
      this.#error = err;
      if (!this.#detached) this.destroy(err);
      this.#onSettle?.();
    });
    source.pause();
  }

  override _read(): void {
    if (!this.#detached) this.#source.resume();
  }

  #record(chunk: Buffer): void {
    if (this.#overflowed) return;
    this.#recorded += chunk.byteLength;
    if (this.#recorded > this.#maxBytes) {
      this.#overflowed = true;
      this.#chunks = [];
      this.#onSettle?.();
      return;
    }
    this.#chunks.push(chunk);
  }

  release(): void {
    this.#chunks = [];
    this.#overflowed = true;
  }

  /** Stops feeding the first attempt, reads what it left unread, and returns the whole body. */
  async replay(cause: unknown): Promise<Buffer> {
    this.#detached = true;
    if (!this.#ended && !this.#overflowed && this.#error === undefined) {
      await new Promise<void>((resolve) => {
        this.#onSettle = resolve;
        this.#source.resume();
      });
    }
    if (this.#error !== undefined) throw this.#error;
    if (this.#overflowed) {
      this.#source.destroy();
      throw new BodyNotReplayableError(
        `The bucket is in another region and the request body is a stream larger than ${this.#maxBytes} bytes, ` +
          "which cannot be buffered to be sent again. Pass the bucket's region with '@region' (or inRegion()), " +
          'or raise maxReplayBytes.',
        cause,
      );
    }
    return Buffer.concat(this.#chunks);
  }
}
