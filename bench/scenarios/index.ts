/**
 * Every scenario `npm run bench` knows, in run order. To add one: write a file next to this
 * one exporting `Scenario` values (see ../scenario.ts and objects.ts for an example) and
 * append them here.
 */
import type { Scenario } from '../scenario.ts';
import { batchScenarios } from './batch.ts';
import { clientScenarios } from './client.ts';
import { listingScenarios } from './listing.ts';
import { memoryScenarios } from './memory.ts';
import { mrapScenarios } from './mrap.ts';
import { multipartScenarios } from './multipart.ts';
import { objectScenarios } from './objects.ts';
import { replicationScenarios } from './replication.ts';

export const SCENARIOS: readonly Scenario[] = [
  ...objectScenarios,
  ...memoryScenarios,
  ...multipartScenarios,
  ...listingScenarios,
  ...replicationScenarios,
  ...clientScenarios,
  ...mrapScenarios,
  ...batchScenarios,
];
