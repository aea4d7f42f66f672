/**
 * Injected faults, for rehearsing a regional outage on one machine: a region that is down
 * (its endpoint refuses every connection: clients, the MRAP router and replication alike),
 * a partition between two regions (replication between them cannot get through), and a slow
 * region (every answer delayed). Faults live in a small LMDB environment in the world's data
 * directory, so `meridian fault ...` in another process takes effect at once in every region.
 */
import { open, type Database, type RootDatabase } from 'lmdb';

export interface FaultState {
  down: string[];
  /** pairs of regions that cannot reach each other (both directions) */
  partitions: [string, string][];
  /** extra latency per region, ms */
  slow: Record<string, number>;
}

const EMPTY: FaultState = { down: [], partitions: [], slow: {} };

export class FaultStore {
  readonly #root: RootDatabase;
  readonly #db: Database<FaultState, string>;

  constructor(path: string) {
    this.#root = open({ path, compression: false });
    this.#db = this.#root.openDB<FaultState, string>({ name: 'faults' });
  }

  current(): FaultState {
    return this.#db.get('state') ?? EMPTY;
  }

  isDown(region: string): boolean {
    return this.current().down.includes(region);
  }

  partitioned(a: string, b: string): boolean {
    return this.current().partitions.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
  }

  delayMs(region: string): number {
    return this.current().slow[region] ?? 0;
  }

  async #update(change: (s: FaultState) => FaultState): Promise<FaultState> {
    const next = await this.#root.transaction(() => {
      const updated = change(structuredClone(this.current()));
      void this.#db.put('state', updated);
      return updated;
    });
    await this.#root.flushed;
    return next;
  }

  regionDown(region: string): Promise<FaultState> {
    return this.#update((s) => ({ ...s, down: [...new Set([...s.down, region])] }));
  }

  regionUp(region: string): Promise<FaultState> {
    return this.#update((s) => ({ ...s, down: s.down.filter((r) => r !== region) }));
  }

  partition(a: string, b: string): Promise<FaultState> {
    return this.#update((s) => (this.partitioned(a, b) ? s : { ...s, partitions: [...s.partitions, [a, b]] }));
  }

  slow(region: string, ms: number): Promise<FaultState> {
    return this.#update((s) => ({ ...s, slow: { ...s.slow, [region]: ms } }));
  }

  clear(): Promise<FaultState> {
    return this.#update(() => EMPTY);
  }

  async close(): Promise<void> {
    await this.#root.flushed;
    await this.#root.close();
  }
}
