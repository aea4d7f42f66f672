/**
 * The contract suite against the memory cache; the file and Redis caches run it in their own
 * test files, next to their specific tests.
 */
import { regionCacheContract } from './contract.ts';
import { MemoryRegionCache } from './memory.ts';

regionCacheContract('MemoryRegionCache', () => new MemoryRegionCache());
