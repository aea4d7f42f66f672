/**
 * The MRAP router's figures as Prometheus metrics, read from `MrapRouter.metrics()` at each
 * scrape (the router keeps plain counters; nothing here runs per request):
 *
 *   meridian_mrap_requests_total{mrap,region}              requests sent to a region's bucket
 *   meridian_mrap_errors_total{mrap,region}                unreachable region or 5xx answer
 *   meridian_mrap_failovers_total{mrap,region}             requests that reached it after another region failed
 *   meridian_mrap_response_bytes_total{mrap,region}        response bytes relayed
 *   meridian_mrap_request_duration_seconds_total{mrap,region}  time spent routing and answering
 *                                                          (÷ requests_total = mean latency)
 *   meridian_mrap_region_healthy{region}                   1 while the region is in routing
 *   meridian_mrap_region_distance_seconds{region}          distance used to choose the nearest
 *
 * `mrap` is the access point's alias. The latency histogram per operation is the global
 * endpoint's `meridian_request_duration_seconds{region="global"}`.
 */
import { Counter, Gauge, Registry } from 'prom-client';

/** The shape of `MrapRouter.metrics()`. */
export interface RouterFigures {
  regions: { region: string; healthy: boolean; rttMs?: number; distanceMs: number }[];
  routes: {
    alias: string;
    region: string;
    requests: number;
    errors: number;
    failovers: number;
    bytesOut: number;
    totalMs: number;
  }[];
}

export function routerRegistry(figures: () => RouterFigures): Registry {
  const registry = new Registry();
  const registers = [registry];
  const labelNames = ['mrap', 'region'] as const;
  const counters = {
    requests: new Counter({ name: 'meridian_mrap_requests_total', help: 'MRAP requests sent to a region', labelNames, registers }),
    errors: new Counter({ name: 'meridian_mrap_errors_total', help: 'MRAP requests that could not reach the region or got a 5xx', labelNames, registers }),
    failovers: new Counter({ name: 'meridian_mrap_failovers_total', help: 'MRAP requests that reached this region after another failed', labelNames, registers }),
    bytesOut: new Counter({ name: 'meridian_mrap_response_bytes_total', help: 'Response bytes relayed from the region', labelNames, registers }),
    seconds: new Counter({ name: 'meridian_mrap_request_duration_seconds_total', help: 'Time spent on MRAP requests answered by the region', labelNames, registers }),
  };
  const healthy = new Gauge({ name: 'meridian_mrap_region_healthy', help: '1 while the region is in MRAP routing', labelNames: ['region'], registers });
  const distance = new Gauge({
    name: 'meridian_mrap_region_distance_seconds',
    help: 'Distance from the global endpoint used to choose the nearest region',
    labelNames: ['region'],
    registers,
  });
  // Collected once per scrape, before any of the metrics above is read.
  (counters.requests as Counter & { collect?: () => void }).collect = () => {
    const f = figures();
    for (const c of Object.values(counters)) c.reset();
    healthy.reset();
    distance.reset();
    for (const r of f.routes) {
      const labels = { mrap: r.alias, region: r.region };
      counters.requests.inc(labels, r.requests);
      counters.errors.inc(labels, r.errors);
      counters.failovers.inc(labels, r.failovers);
      counters.bytesOut.inc(labels, r.bytesOut);
      counters.seconds.inc(labels, r.totalMs / 1000);
    }
    for (const r of f.regions) {
      healthy.set({ region: r.region }, r.healthy ? 1 : 0);
      if (Number.isFinite(r.distanceMs) && r.distanceMs < Number.MAX_SAFE_INTEGER) distance.set({ region: r.region }, r.distanceMs / 1000);
    }
  };
  return registry;
}
