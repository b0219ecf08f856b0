import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../templates/src/scaling/metrics/index.js';

const dir = join(import.meta.dirname, '..', '..', 'infra', 'prometheus');

function assertPromtool(): void {
  const found = (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, 'promtool')));
  if (!found) {
    throw new Error('promtool is not installed; it ships with Prometheus (Debian/Ubuntu: `apt-get install prometheus`).');
  }
}

async function promtool(args: string[], input?: string, cwd = dir): Promise<{ code: number; output: string }> {
  assertPromtool();
  return new Promise((resolve) => {
    const child = execFile('promtool', args, { cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

describe('Prometheus configuration', () => {
  it('has valid alerting and recording rules', async () => {
    const { code, output } = await promtool(['check', 'rules', 'alerts.yml']);
    expect(output).toContain('SUCCESS: 15 rules found');
    expect(code).toBe(0);
  });

  it('has a valid scrape configuration, rendered for 1 and 3 instances, that loads the rules', async () => {
    const template = Handlebars.compile(readFileSync(join(dir, 'prometheus.yml.hbs'), 'utf8'));
    for (const instances of [1, 3]) {
      const out = mkdtempSync(join(tmpdir(), 'prometheus-config-'));
      try {
        const rendered = template({ instances, instanceList: Array.from({ length: instances }, (_, i) => i + 1) });
        writeFileSync(join(out, 'prometheus.yml'), rendered);
        copyFileSync(join(dir, 'alerts.yml'), join(out, 'alerts.yml'));
        const { code, output } = await promtool(['check', 'config', 'prometheus.yml'], undefined, out);
        expect(output).toMatch(/SUCCESS: prometheus\.yml is valid/);
        expect(output).toContain('SUCCESS: 1 rule files found');
        expect(code).toBe(0);
        const config = parse(rendered) as { scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
        const targets = config.scrape_configs[0]!.static_configs[0]!.targets;
        expect(targets).toEqual(Array.from({ length: instances }, (_, i) => `app${i + 1}:9091`));
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
  });

  it('passes the rule unit tests: every alert fires when it should and only then', async () => {
    const { code, output } = await promtool(['test', 'rules', 'alerts.test.yml']);
    expect(output, output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('alerts on the metric names the application exposes', async () => {
    const metrics = createMetrics({ instanceId: 'promtool' });
    // Give labelled metrics a series so they appear in the exposition.
    metrics.observeRequest('GET', '/api/v1/ping', 200, 1);
    metrics.sseEventsTotal.inc({ type: 'message' });
    metrics.cacheHitsTotal.inc({ layer: 'l1' });
    metrics.cacheMissesTotal.inc({ layer: 'l2' });
    metrics.redisConnectionUp.set({ connection: 'command' }, 1);
    metrics.redisCommandErrorsTotal.inc({ connection: 'command' }, 0);
    metrics.setRedisMemorySource(async () => [{ node: 'redis-1:6379', usedBytes: 900, maxBytes: 1000 }]);
    metrics.jobsCompletedTotal.inc({ queue: 'notes', task: 'wordStats' });
    metrics.jobsFailedTotal.inc({ queue: 'notes', task: 'wordStats' }, 0);
    metrics.trackJobQueues(async () => [{ queue: 'notes', state: 'waiting', count: 3 }]);
    const text = await metrics.registry.metrics();
    const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
    const read = [
      'sse_events_total',
      'cache_invalidations_total',
      'sse_active_connections',
      'cache_hit_percentage',
      'http_request_duration_ms_count',
      'http_request_duration_ms_bucket',
      'redis_connection_up',
      'redis_memory_used_bytes',
      'redis_memory_max_bytes',
      'store_full_errors_total',
      'jobs_queue_depth',
      'jobs_completed_total',
      'jobs_failed_total',
    ];
    for (const name of read) {
      expect(rules).toMatch(new RegExp(`\\b${name}\\b`));
      expect(text).toMatch(new RegExp(`^${name}\\{[^}]*instance="promtool"`, 'm'));
    }
  });

  it('accepts the application metrics text with Prometheus own parser', async () => {
    const metrics = createMetrics({ instanceId: 'promtool' });
    metrics.observeRequest('GET', '/api/v1/notes/:id', 404, 2.5);
    metrics.sseActiveConnections.set(3);
    metrics.sseDeliveryLag.observe(0.004);
    metrics.cacheHitsTotal.inc({ namespace: 'notes', layer: 'l1' });
    metrics.trackRedisConnections(() => [{ role: 'command', state: 'ready', count: 1 }]);
    metrics.jobsDuration.observe({ queue: 'notes', task: 'wordStats', outcome: 'completed' }, 0.012);
    metrics.jobsRetriesTotal.inc({ queue: 'notes', task: 'wordStats' });
    metrics.trackJobQueues(async () => [{ queue: 'notes', state: 'delayed', count: 1 }]);
    const text = await metrics.registry.metrics();
    for (const name of [
      'sse_delivery_lag_seconds_bucket',
      'cache_hits_total',
      'db_connections_active',
      'jobs_duration_seconds_bucket',
      'jobs_retries_total',
      'jobs_queue_depth',
    ])
      expect(text).toContain(`${name}{`);
    const { output } = await promtool(['check', 'metrics'], text);
    expect(output).not.toMatch(/parsing error|error while linting/);
    // Lint remarks on our metrics other than the seed-mandated millisecond unit
    // would be real problems (prom-client's default nodejs_* names are its own).
    const remarks = output.split('\n').filter((line) => line.trim() !== '' && !/^(nodejs|process)_/.test(line));
    for (const remark of remarks) expect(remark).toMatch(/^http_request_duration_ms.*(base unit|"seconds"|abbreviated units)/);
  });
});
