import type { Histogram, Registry } from 'prom-client';

interface Series {
  labels: { route: string; method: string; status: string };
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** One sample as prom-client's registry formats it: `metricName{sharedLabels,labels} value`. */
interface Sample {
  metricName: string;
  labels: { le?: number | string };
  sharedLabels: Series['labels'];
  value: number;
}

export interface RequestDurationOptions {
  name: string;
  help: string;
  /** Upper bounds in milliseconds, ascending. */
  buckets: readonly number[];
  registers: Registry[];
}

/**
 * The `http_request_duration_ms` histogram, observed once per request.
 * prom-client's Histogram validates and hashes the label object on every
 * observe, which costs as much as the rest of the per-request bookkeeping
 * (docs/performance.md); this finds its series through two map lookups on
 * values already at hand and builds label objects only when Prometheus
 * scrapes. It is registered on prom-client registries, which format it like
 * any histogram: the exposition text is the one prom-client's own Histogram
 * gives for the same observations (a test compares the two).
 */
export class RequestDurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  /** route -> status (GET) or `${status} ${method}` -> series */
  private series = new Map<string, Map<number | string, Series>>();

  constructor(options: RequestDurationOptions) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = Float64Array.from(options.buckets);
    // Registries accept any object with prom-client's metric shape (name, get, reset).
    for (const registry of options.registers) registry.registerMetric(this as unknown as Histogram);
  }

  observe(method: string, route: string, status: number, durationMs: number): void {
    let byStatus = this.series.get(route);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.series.set(route, byStatus);
    }
    const key = method === 'GET' ? status : `${status} ${method}`;
    let series = byStatus.get(key);
    if (series === undefined) {
      series = { labels: { route, method, status: String(status) }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      byStatus.set(key, series);
    }
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && durationMs > bounds[bucket]!) bucket++;
    series.counts[bucket]!++;
    series.sum += durationMs;
    series.count++;
  }

  /** Called by the registry at each scrape. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] }> {
    const values: Sample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const byStatus of this.series.values()) {
      for (const series of byStatus.values()) {
        let cumulative = 0;
        for (let i = 0; i < this.bounds.length; i++) {
          cumulative += series.counts[i]!;
          values.push({ labels: { le: this.bounds[i]! }, value: cumulative, metricName: bucketName, sharedLabels: series.labels });
        }
        values.push({ labels: { le: '+Inf' }, value: series.count, metricName: bucketName, sharedLabels: series.labels });
        values.push({ labels: {}, value: series.sum, metricName: `${this.name}_sum`, sharedLabels: series.labels });
        values.push({ labels: {}, value: series.count, metricName: `${this.name}_count`, sharedLabels: series.labels });
      }
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series = new Map();
  }
}
