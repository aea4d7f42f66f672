#!/usr/bin/env node
// The `meridian` command. Sources are TypeScript, loaded through tsx.

// File writes, fsyncs and LMDB commits share libuv's thread pool; its default of 4 threads
// would let a few slow fsyncs stall every other request's file I/O. Must be set before the
// pool is first used.
process.env.UV_THREADPOOL_SIZE ??= '16';

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
