/**
 * Figures a scenario reports beyond the table's columns (a second listing mode, the key count
 * it actually used, phase timings). They travel in the outcome as `details`, end up in
 * latest.json next to the figures, and run.ts prints them under the table.
 */
import type { ScenarioOutcome } from './scenario.ts';

export type Details = Record<string, number | string | boolean>;

export interface DetailedOutcome extends ScenarioOutcome {
  details?: Details;
}
