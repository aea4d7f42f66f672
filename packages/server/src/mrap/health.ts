/**
 * How near and how healthy each region is, as seen from the global endpoint: active probes
 * of every region's `/_meridian/health` (round-trip time, smoothed) and passive reports
 * from the router (a request that could not reach a region). A region that fails two probes
 * in a row, or a request, is down until a probe succeeds again. With a configured latency
 * table (simulation), the table gives the distances instead of measurements.
 */
import { Agent } from 'undici';
import type { Catalog } from '../catalog/catalog.ts';
import type { Logger } from '../core/log.ts';

export interface HealthOptions {
  catalog: Catalog;
  log: Logger;
  /** how often every region is probed (default 500 ms) */
  probeIntervalMs?: number;
  /** a probe slower than this fails (default 1000 ms) */
  probeTimeoutMs?: number;
  /** simulated distances from the global endpoint, ms, by region */
  latencyTable?: Record<string, number>;
}

interface RegionState {
  rttMs?: number;
  failures: number;
  downSince?: number;
}

export class RegionHealth {
  readonly #opts: Required<Omit<HealthOptions, 'latencyTable'>> & Pick<HealthOptions, 'latencyTable'>;
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  readonly #state = new Map<string, RegionState>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: HealthOptions) {
    this.#opts = { probeIntervalMs: 500, probeTimeoutMs: 1000, ...opts };
  }

  start(): void {
    void this.#probeAll();
    this.#timer = setInterval(() => void this.#probeAll(), this.#opts.probeIntervalMs);
    this.#timer.unref();
  }

  #of(region: string): RegionState {
    let s = this.#state.get(region);
    if (!s) {
      s = { failures: 0 };
      this.#state.set(region, s);
    }
    return s;
  }

  async #probeAll(): Promise<void> {
    await Promise.all(this.#opts.catalog.regions().map((r) => this.#probe(r.name, r.endpoint)));
  }

  async #probe(region: string, endpoint: string): Promise<void> {
    if (this.#closed) return;
    const started = performance.now();
    try {
      const res = await this.#agent.request({
        origin: new URL(endpoint).origin,
        path: '/_meridian/health',
        method: 'GET',
        headersTimeout: this.#opts.probeTimeoutMs,
        bodyTimeout: this.#opts.probeTimeoutMs,
      });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`health ${res.statusCode}`);
      this.#succeeded(region, performance.now() - started);
    } catch {
      this.#failed(region, 'probe');
    }
  }

  #succeeded(region: string, rttMs: number): void {
    const s = this.#of(region);
    if (s.downSince !== undefined) this.#opts.log.info({ region }, 'region is reachable again');
    s.rttMs = s.rttMs === undefined ? rttMs : s.rttMs * 0.8 + rttMs * 0.2;
    s.failures = 0;
    s.downSince = undefined;
  }

  #failed(region: string, why: 'probe' | 'request'): void {
    const s = this.#of(region);
    s.failures++;
    // A failed request is evidence enough; probes get a second chance.
    if (s.downSince === undefined && (why === 'request' || s.failures >= 2)) {
      s.downSince = Date.now();
      this.#opts.log.warn({ region, why }, 'region taken out of MRAP routing');
    }
  }

  /** The router could not reach `region`. */
  reportFailure(region: string): void {
    this.#failed(region, 'request');
  }

  healthy(region: string): boolean {
    return this.#of(region).downSince === undefined;
  }

  /** Distance to `region` in ms: the latency table's, else the measured round trip. */
  distance(region: string): number {
    return this.#opts.latencyTable?.[region] ?? this.#of(region).rttMs ?? Number.MAX_SAFE_INTEGER;
  }

  snapshot(): { region: string; healthy: boolean; rttMs?: number; distanceMs: number }[] {
    return this.#opts.catalog.regions().map((r) => ({
      region: r.name,
      healthy: this.healthy(r.name),
      rttMs: this.#of(r.name).rttMs,
      distanceMs: this.distance(r.name),
    }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#agent.close();
  }
}
