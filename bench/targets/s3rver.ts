/**
 * s3rver, the common Node S3 emulator, as the peer reference. It checks that the access key
 * exists (`S3RVER`) but does not verify SigV4 signatures.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dataDirFromEnv, serveUntilParentExits } from './child.ts';

interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  resetOnClose?: boolean;
}
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: S3rverOptions) => S3rverInstance;

// s3rver ships no type declarations; this is the part of its API used here.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

await serveUntilParentExits(async () => {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dataDirFromEnv(),
  });
  const { port } = await server.run();
  return { endpoint: `http://127.0.0.1:${port}`, close: () => server.close() };
});
