import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/scaling/metrics/index.js';
import { WindowedHitRatio } from '../../src/scaling/metrics/hit-ratio.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

async function scrape(metrics: ReturnType<typeof createMetrics>) {
  return parsePrometheusText(await metrics.registry.metrics());
}

describe('createMetrics', () => {
  it('gives each app its own registry, every series labelled with its instance id', async () => {
    const a = createMetrics({ instanceId: 'app-a' });
    const b = createMetrics({ instanceId: 'app-b', defaultMetrics: false });
    a.observeRequest('GET', '/api/v1/ping', 200, 3);
    a.observeRequest('GET', '/api/v1/ping', 200, 30);
    b.sseActiveConnections.inc();

    const { samples, types } = await scrape(a);
    expect(types.get('http_request_duration_ms')).toBe('histogram');
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    for (const s of samples) expect(s.labels.instance).toBe('app-a');
    const route = { route: '/api/v1/ping', method: 'GET', status: '200' };
    expect(sampleValue(samples, 'http_request_duration_ms_count', route)).toBe(2);
    expect(sampleValue(samples, 'http_request_duration_ms_sum', route)).toBe(33);
    expect(sampleValue(samples, 'http_request_duration_ms_bucket', { ...route, le: '5' })).toBe(1);
    expect(sampleValue(samples, 'sse_active_connections')).toBe(0);

    const other = await scrape(b);
    expect(sampleValue(other.samples, 'sse_active_connections', { instance: 'app-b' })).toBe(1);
    expect(other.types.has('process_cpu_user_seconds_total')).toBe(false);
  });

  it('exposes every metric the alert rules read, under the names the rules use', async () => {
    const m = createMetrics({ instanceId: 'x', defaultMetrics: false });
    m.sseEventsTotal.inc({ type: 'message' });
    m.cacheInvalidationsTotal.inc();
    m.redisConnectionUp.set({ connection: 'command' }, 1);
    m.redisCommandErrorsTotal.inc({ connection: 'command' });
    const { samples, types } = await scrape(m);
    expect(Object.fromEntries(types)).toMatchObject({
      http_request_duration_ms: 'histogram',
      sse_active_connections: 'gauge',
      sse_events_total: 'counter',
      cache_hits_total: 'counter',
      cache_misses_total: 'counter',
      cache_hit_percentage: 'gauge',
      cache_invalidations_total: 'counter',
      redis_connection_up: 'gauge',
      redis_command_errors_total: 'counter',
      sse_delivery_lag_seconds: 'histogram',
      db_connections_active: 'gauge',
    });
    expect(sampleValue(samples, 'sse_events_total', { type: 'message' })).toBe(1);
    expect(sampleValue(samples, 'redis_connection_up', { connection: 'command' })).toBe(1);
    expect(sampleValue(samples, 'redis_command_errors_total', { connection: 'command' })).toBe(1);
  });

  it('computes cache_hit_percentage from the hit and miss counters at scrape time', async () => {
    const m = createMetrics({ instanceId: 'x', defaultMetrics: false });
    expect(sampleValue((await scrape(m)).samples, 'cache_hit_percentage')).toBeNaN();
    m.cacheHitsTotal.inc({ layer: 'l1' }, 6);
    m.cacheHitsTotal.inc({ layer: 'l2' }, 2);
    m.cacheMissesTotal.inc({ layer: 'l2' }, 2);
    expect(sampleValue((await scrape(m)).samples, 'cache_hit_percentage')).toBe(80);
  });
});

describe('db_connections_active', () => {
  it('sums what every tracked owner reports at scrape time, until it is untracked', async () => {
    const m = createMetrics({ instanceId: 'x', defaultMetrics: false });
    let ready = 1;
    const stop = m.trackRedisConnections(() => [
      { role: 'command', state: 'ready', count: ready },
      { role: 'subscriber', state: 'ready', count: 2 },
    ]);
    m.trackRedisConnections(() => [{ role: 'subscriber', state: 'ready', count: 1 }]);
    let samples = (await scrape(m)).samples;
    expect(sampleValue(samples, 'db_connections_active', { role: 'command', state: 'ready' })).toBe(1);
    expect(sampleValue(samples, 'db_connections_active', { role: 'subscriber', state: 'ready' })).toBe(3);
    ready = 0;
    stop();
    samples = (await scrape(m)).samples;
    expect(sampleValue(samples, 'db_connections_active', { role: 'command' })).toBeUndefined();
    expect(sampleValue(samples, 'db_connections_active', { role: 'subscriber', state: 'ready' })).toBe(1);
  });
});

describe('onScrape', () => {
  it('lets batched counters flush before a scrape reads them', async () => {
    const m = createMetrics({ instanceId: 'x', defaultMetrics: false });
    let pending = 5;
    const flush = () => {
      m.cacheHitsTotal.inc({ layer: 'l1' }, pending);
      pending = 0;
    };
    const off = m.onScrape(flush);
    m.cacheMissesTotal.inc({ layer: 'l2' }, 5);
    const samples = (await scrape(m)).samples;
    expect(sampleValue(samples, 'cache_hits_total', { layer: 'l1' })).toBe(5);
    expect(sampleValue(samples, 'cache_hit_percentage')).toBe(50);
    off();
    pending = 7;
    expect(sampleValue((await scrape(m)).samples, 'cache_hits_total', { layer: 'l1' })).toBe(5);
  });
});

describe('WindowedHitRatio', () => {
  it('answers over the window only, so an old good period does not hide a bad one', () => {
    let now = 0;
    const ratio = new WindowedHitRatio(60_000, () => now);
    now = 30_000;
    expect(ratio.percentage(90, 10)).toBe(90);
    now = 120_000;
    expect(ratio.percentage(100, 50)).toBeCloseTo(100 * (10 / 50));
    now = 125_000;
    // The baseline is the last snapshot at or before the window start (30 s).
    expect(ratio.percentage(100, 60)).toBeCloseTo(100 * (10 / 60));
    now = 300_000;
    expect(ratio.percentage(100, 60)).toBeNaN();
  });
});
