import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestDurationHistogram } from '../../src/scaling/metrics/request-duration.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

const BUCKETS = [1, 2.5, 5, 10, 25, 50, 100];
const help = 'HTTP request duration in milliseconds, by route pattern, method and status code';

/** The same observations through prom-client's Histogram and through ours, each on its own registry. */
function both() {
  const reference = new Registry();
  const ours = new Registry();
  for (const registry of [reference, ours]) registry.setDefaultLabels({ instance: 'api-1' });
  const histogram = new Histogram({
    name: 'http_request_duration_ms',
    help,
    labelNames: ['route', 'method', 'status'],
    buckets: BUCKETS,
    registers: [reference],
  });
  const fast = new RequestDurationHistogram({ name: 'http_request_duration_ms', help, buckets: BUCKETS, registers: [ours] });
  return {
    reference,
    ours,
    fast,
    observe(method: string, route: string, status: number, ms: number) {
      histogram.observe({ route, method, status: String(status) }, ms);
      fast.observe(method, route, status, ms);
    },
  };
}

describe('request duration histogram', () => {
  it('exposes exactly what prom-client’s Histogram exposes for the same requests', async () => {
    const { reference, ours, observe } = both();
    // Bucket bounds themselves, between bounds, above every bound, zero.
    const durations = [0, 0.3, 1, 1.0001, 2.5, 4.9, 5, 7, 10, 24.99, 25, 50, 99.9, 100, 100.01, 2_000];
    for (const [i, ms] of durations.entries()) {
      observe('GET', '/api/v1/ping', 200, ms);
      observe(i % 2 ? 'POST' : 'GET', '/api/v1/notes', i % 3 ? 201 : 400, ms * 1.5);
    }
    observe('GET', 'unmatched', 404, 0.2);
    observe('DELETE', '/api/v1/notes/:id', 204, 3);
    observe('GET', '/api/v1/notes/:id', 200, 3);

    const sorted = (text: string) => text.split('\n').filter(Boolean).sort();
    expect(sorted(await ours.metrics())).toEqual(sorted(await reference.metrics()));
    expect(await ours.getMetricsAsJSON()).toHaveLength(1);
  });

  it('counts cumulatively by bucket, with sum and count per label set', async () => {
    const { ours, observe } = both();
    for (const ms of [0.5, 3, 3, 70, 500]) observe('GET', '/api/v1/ping', 200, ms);
    const samples = parsePrometheusText(await ours.metrics()).samples;
    const series = { route: '/api/v1/ping', method: 'GET', status: '200', instance: 'api-1' };
    expect(sampleValue(samples, 'http_request_duration_ms_bucket', { ...series, le: '1' })).toBe(1);
    expect(sampleValue(samples, 'http_request_duration_ms_bucket', { ...series, le: '5' })).toBe(3);
    expect(sampleValue(samples, 'http_request_duration_ms_bucket', { ...series, le: '100' })).toBe(4);
    expect(sampleValue(samples, 'http_request_duration_ms_bucket', { ...series, le: '+Inf' })).toBe(5);
    expect(sampleValue(samples, 'http_request_duration_ms_sum', series)).toBeCloseTo(576.5);
    expect(sampleValue(samples, 'http_request_duration_ms_count', series)).toBe(5);
  });

  it('starts over when the registry resets its metrics', async () => {
    const { ours, observe } = both();
    observe('GET', '/api/v1/ping', 200, 1);
    ours.resetMetrics();
    expect(parsePrometheusText(await ours.metrics()).samples).toEqual([]);
    observe('GET', '/api/v1/ping', 200, 1);
    expect(sampleValue(parsePrometheusText(await ours.metrics()).samples, 'http_request_duration_ms_count', { route: '/api/v1/ping' })).toBe(1);
  });

  it('refuses a second metric of the same name on a registry', () => {
    const { ours } = both();
    expect(() => new RequestDurationHistogram({ name: 'http_request_duration_ms', help, buckets: BUCKETS, registers: [ours] })).toThrow(
      /already been registered/,
    );
  });
});
