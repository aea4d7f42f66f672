/**
 * Prometheus metrics of one process: one registry for everything the process serves, every
 * series labelled with the `region` it belongs to (`global` for the global endpoint), so that
 * several regions sharing a process never collide on a metric name.
 *
 * Each endpoint answers `/metrics` with its own view: the series whose `region` label is its
 * own, the process-wide series (event-loop lag, memory, CPU: no `region` label), and the
 * registries added for it (a region's replication, the global endpoint's router). A world in
 * one process scraped at every endpoint therefore counts nothing twice.
 *
 * Metrics:
 *   meridian_requests_total{region,operation,status}            S3 requests answered
 *   meridian_request_duration_seconds{region,operation}         latency histogram
 *   meridian_request_bytes_total{region,operation}              request body bytes received
 *   meridian_response_bytes_total{region,operation}             response body bytes sent
 *   meridian_store_{buckets,objects,versions,bytes}{region}     what a region stores
 *   nodejs_eventloop_lag_seconds, nodejs_eventloop_lag_p99_seconds, process_* ...  (prom-client defaults)
 */
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

/** What one region stores, read cheaply (LMDB statistics and counters kept in the store). */
export interface StoreStats {
  buckets: number;
  /** keys whose current version is an object (not a delete marker) */
  objects: number;
  /** every version and delete marker */
  versions: number;
  /** bytes of every stored version */
  bytes: number;
}

/** One answered request, as the endpoint saw it. */
export interface RequestSample {
  region: string;
  operation: string;
  status: number;
  seconds: number;
  bytesIn: number;
  bytesOut: number;
}

/** Latency buckets: a 4 KiB GET from memory takes a millisecond, a large upload minutes. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

type Json = MetricObjectWithValues<MetricValue<string>>;

export class ProcessMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  readonly #requests: Counter<'region' | 'operation' | 'status'>;
  readonly #duration: Histogram<'region' | 'operation'>;
  readonly #bytesIn: Counter<'region' | 'operation'>;
  readonly #bytesOut: Counter<'region' | 'operation'>;
  readonly #stores = new Map<string, () => StoreStats>();
  /** registries served only by the endpoint named by their scope */
  readonly #scoped: { scope: string; registry: Registry }[] = [];

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: 'meridian_requests_total',
      help: 'S3 requests answered, by operation and HTTP status',
      labelNames: ['region', 'operation', 'status'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'meridian_request_duration_seconds',
      help: 'Time from a request arriving to its response being sent',
      labelNames: ['region', 'operation'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#bytesIn = new Counter({
      name: 'meridian_request_bytes_total',
      help: 'Request body bytes received (Content-Length as decoded)',
      labelNames: ['region', 'operation'],
      registers,
    });
    this.#bytesOut = new Counter({
      name: 'meridian_response_bytes_total',
      help: 'Response body bytes sent (Content-Length)',
      labelNames: ['region', 'operation'],
      registers,
    });
    const gauge = (name: string, help: string, pick: (s: StoreStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['region'],
        registers,
        collect: () => {
          const g = this.registry.getSingleMetric(name) as Gauge<'region'>;
          g.reset();
          for (const [region, stats] of this.#stores) {
            try {
              g.set({ region }, pick(stats()));
            } catch {
              // A store closing under a scrape: the next scrape has it again or not at all.
            }
          }
        },
      });
    gauge('meridian_store_buckets', 'Buckets held by the region', (s) => s.buckets);
    gauge('meridian_store_objects', 'Keys whose current version is an object', (s) => s.objects);
    gauge('meridian_store_versions', 'Object versions and delete markers stored', (s) => s.versions);
    gauge('meridian_store_bytes', 'Bytes of every stored object version', (s) => s.bytes);
    // Event-loop lag (monitorEventLoopDelay), heap, CPU, handles: the standard names dashboards know.
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  observe(s: RequestSample): void {
    this.#requests.inc({ region: s.region, operation: s.operation, status: String(s.status) });
    this.#duration.observe({ region: s.region, operation: s.operation }, s.seconds);
    if (s.bytesIn > 0) this.#bytesIn.inc({ region: s.region, operation: s.operation }, s.bytesIn);
    if (s.bytesOut > 0) this.#bytesOut.inc({ region: s.region, operation: s.operation }, s.bytesOut);
  }

  /** Reports a region's store sizes at every scrape. */
  addStore(region: string, stats: () => StoreStats): void {
    this.#stores.set(region, stats);
  }

  /**
   * Serves `registry` at the endpoint `scope` (a region's name, or `global`). Its metric
   * names may repeat another scope's: each scope's series carry their own labels.
   */
  addRegistry(scope: string, registry: Registry): void {
    this.#scoped.push({ scope, registry });
  }

  /** The Prometheus text of endpoint `scope`. */
  async render(scope: string): Promise<string> {
    const own = (await this.registry.getMetricsAsJSON()) as Json[];
    const mine = own.map((m) => ({
      ...m,
      values: m.values.filter((v) => v.labels.region === undefined || v.labels.region === scope),
    }));
    const added = await Promise.all(
      this.#scoped.filter((s) => s.scope === scope).map(async (s) => (await s.registry.getMetricsAsJSON()) as Json[]),
    );
    // Joined by name; no two series share labels, so each is kept as it is ('first').
    const all = [mine, ...added].map((metrics) => metrics.map((m) => ({ ...m, aggregator: 'first' as const })));
    return AggregatorRegistry.aggregate(all as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
  }
}
