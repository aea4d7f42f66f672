/**
 * `meridian fault ...`: rehearse an outage on a running world. Faults are kept in the world's
 * data directory, so every region of the world (in this process or another) sees them at once.
 *
 *   meridian fault region-down eu-west-1     the region refuses every connection
 *   meridian fault region-up eu-west-1
 *   meridian fault partition us-east-1 eu-west-1   replication between them cannot get through
 *   meridian fault slow eu-west-1 --latency 500ms  every answer of the region comes late
 *   meridian fault clear
 *   meridian fault status
 */
import { join } from 'node:path';
import { ConfigError } from '../core/config.ts';
import { FaultStore, type FaultState } from '../core/faults.ts';

export function faultsPath(dataDir: string): string {
  return join(dataDir, 'faults');
}

/** `500ms`, `2s` or a bare number of milliseconds. */
export function parseLatency(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`'${value}' is not a latency (e.g. 500ms or 2s)`);
  return Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1));
}

function describe(state: FaultState): string {
  const lines = [
    ...state.down.map((r) => `  ${r} is down`),
    ...state.partitions.map(([a, b]) => `  ${a} and ${b} are partitioned`),
    ...Object.entries(state.slow).map(([r, ms]) => `  ${r} answers ${ms} ms late`),
  ];
  return lines.length === 0 ? 'No faults.\n' : `${lines.join('\n')}\n`;
}

export async function fault(
  args: string[],
  opts: { dataDir: string; latency?: string; out: (text: string) => void },
): Promise<number> {
  const [what, a, b] = args;
  const store = new FaultStore(faultsPath(opts.dataDir));
  try {
    let state: FaultState;
    switch (what) {
      case 'region-down':
        if (!a) throw new ConfigError('fault region-down needs a region');
        state = await store.regionDown(a);
        break;
      case 'region-up':
        if (!a) throw new ConfigError('fault region-up needs a region');
        state = await store.regionUp(a);
        break;
      case 'partition':
        if (!a || !b) throw new ConfigError('fault partition needs two regions');
        state = await store.partition(a, b);
        break;
      case 'slow':
        if (!a) throw new ConfigError('fault slow needs a region');
        state = await store.slow(a, parseLatency(opts.latency ?? '500ms'));
        break;
      case 'clear':
        state = await store.clear();
        break;
      case 'status':
        state = store.current();
        break;
      default:
        throw new ConfigError(`unknown fault '${what ?? ''}' (region-down, region-up, partition, slow, clear, status)`);
    }
    opts.out(describe(state));
    return 0;
  } finally {
    await store.close();
  }
}
