/**
 * infra/grafana: the dashboard's layout and provisioning, then every target of
 * every panel evaluated by a real Prometheus (Debian's package) scraping
 * `npm run stack` (3 instances on a Redis Cluster, nginx) under traffic with
 * SSE streams and cache lookups. Grafana itself is not packaged for these
 * machines, so the panels are also drawn from the same queries to
 * test-results/grafana/dashboard.png (DASHBOARD_PNG=path copies it there too).
 */
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, infraForTests, startStack, type RunningStack } from '../../templates/test/stack/harness.js';
import { startGetLoad, startPublisher } from '../../templates/test/stack/traffic.js';
import { SseClient } from '../../templates/test/support/sse-client.js';
import { labelValuesQuery, legend, loadDashboard, metricNames, substitute, type Panel, type Target } from './support/grafana-dashboard.js';
import { startPrometheus, type PrometheusServer } from './support/prometheus-server.js';
import { renderDashboardPng, type DrawnSeries } from './support/render-dashboard.js';
import { renderProjectFiles } from './support/render-project-files.js';
import { CHROMIUM_PATH } from '../support/chromium.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const grafanaDir = path.join(repoRoot, 'infra', 'grafana');
const dashboardFile = path.join(grafanaDir, 'dashboards', 'api-instances.json');
const dashboard = loadDashboard(dashboardFile);
const ARTIFACTS = path.join(repoRoot, 'test-results', 'grafana');
const SCRAPE_SECONDS = 1;
/** What Grafana puts for $__rate_interval at this scrape interval (at least 4 scrapes), with room to spare. */
const RATE_INTERVAL = '10s';
/**
 * Seconds of traffic drawn, and of traffic before them. The recording rules
 * rate over one minute, so for a minute after traffic starts their lines ramp
 * up: the picture committed for the README (DASHBOARD_PNG set) skips that
 * minute and shows more; a plain run keeps it short.
 */
const PICTURE_SECONDS = process.env.DASHBOARD_PNG ? 40 : 20;
const WARM_UP_SECONDS = process.env.DASHBOARD_PNG ? 65 : 0;

const panelTargets = (panel: Panel): Target[] => panel.targets ?? [];
const allTargets = dashboard.panels.flatMap((panel) => panelTargets(panel).map((target) => ({ panel, target })));

describe('the Grafana dashboard', () => {
  it('places every panel on the 24-column grid without overlap, each with PromQL targets on the data source variable', () => {
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const taken = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, panel.title).toBe(true);
      for (let col = x; col < x + w; col++) {
        for (let row = y; row < y + h; row++) {
          expect(taken.has(`${col},${row}`), `${panel.title} overlaps another panel`).toBe(false);
          taken.add(`${col},${row}`);
        }
      }
      expect(['timeseries', 'stat']).toContain(panel.type);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax, not a template literal.
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panelTargets(panel).length, panel.title).toBeGreaterThan(0);
      for (const target of panelTargets(panel)) {
        expect(target.datasource).toEqual(panel.datasource);
        expect(target.expr.trim()).not.toBe('');
      }
      expect(new Set(panelTargets(panel).map((t) => t.refId)).size).toBe(panelTargets(panel).length);
    }
    const names = dashboard.templating.list.map((v) => v.name);
    expect(names).toEqual(['datasource', 'instance']);
  });

  it('draws what operators look for, and every metric of the seed list', () => {
    const exprs = allTargets.map(({ target }) => target.expr).join('\n');
    for (const wanted of [
      'http_request_duration_ms_count',
      'http_request_duration_ms_bucket',
      'status=~"5.."',
      'sse_active_connections',
      'sse_delivery_lag_seconds_bucket',
      'cache_hits_total',
      'cache_misses_total',
      'redis_command_errors_total',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
      // The seed's names (recording rules and app metrics).
      'cache_hit_percentage',
      'active_instances',
      'requests_per_instance',
      'db_connections_active',
      'sse_events_rate',
      'cache_invalidations_rate',
      // Background jobs.
      'jobs_completed_total',
      'jobs_failed_total',
      'jobs_queue_depth',
      'jobs_duration_seconds_bucket',
    ]) {
      expect(exprs).toContain(wanted);
    }
    expect(exprs).toMatch(/by \(instance, route\)/);
    expect(exprs).toMatch(/by \(namespace\)/);
  });

  it('is served by the compose monitoring profile: provisioned from infra/grafana, on the Prometheus service', async () => {
    const dir = await renderProjectFiles({ redis: 'cluster', instances: 2 }, (t) => t === 'docker-compose.yml' || t.startsWith('infra/'));
    const compose = parse(await readFile(path.join(dir, 'docker-compose.yml'), 'utf8'), { merge: true, maxAliasCount: -1 }) as {
      services: Record<string, { profiles?: string[]; volumes?: string[]; environment?: Record<string, string>; ports?: string[]; depends_on?: object }>;
    };
    const grafana = compose.services.grafana!;
    expect(grafana.profiles).toEqual(['monitoring']);
    expect(Object.keys(grafana.depends_on ?? {})).toEqual(['prometheus']);
    expect(grafana.ports).toEqual(['127.0.0.1:3001:3000']);
    const mounts = new Map((grafana.volumes ?? []).map((v) => v.split(':')).map(([from, to]) => [to!, from!]));
    const hostPath = (containerPath: string) => {
      for (const [to, from] of mounts)
        if (containerPath === to || containerPath.startsWith(`${to}/`)) return path.join(dir, from, path.relative(to, containerPath));
      throw new Error(`${containerPath} is not mounted into the grafana service`);
    };

    const providers = parse(readFileSync(hostPath('/etc/grafana/provisioning/dashboards/dashboards.yml'), 'utf8')) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    expect(providers.providers).toHaveLength(1);
    const provided = hostPath(providers.providers[0]!.options.path);
    expect(readFileSync(path.join(provided, 'api-instances.json'), 'utf8')).toBe(readFileSync(dashboardFile, 'utf8'));
    expect(statSync(hostPath(grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!)).isFile()).toBe(true);

    const sources = parse(readFileSync(hostPath('/etc/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: Array<{ type: string; url: string; isDefault: boolean; jsonData: { timeInterval: string } }>;
    };
    const [source] = sources.datasources;
    expect(source).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    expect(compose.services.prometheus!.ports).toEqual(['127.0.0.1:9090:9090']);
    // $__rate_interval follows the scrape interval Grafana is told about.
    const scrape = parse(readFileSync(path.join(dir, 'infra', 'prometheus', 'prometheus.yml'), 'utf8')) as { global: { scrape_interval: string } };
    expect(source!.jsonData.timeInterval).toBe(scrape.global.scrape_interval);
  });
});

describe('every panel query on a real Prometheus scraping the stack under traffic', () => {
  let stack: RunningStack | undefined;
  let prometheus: PrometheusServer | undefined;
  let traffic: { stop(): Promise<void> } | undefined;
  let trafficStart = 0;
  let instances: string[] = [];
  let variables: Record<string, string> = {};

  beforeAll(async () => {
    await buildApp();
    const infra = await infraForTests();
    stack = await startStack({ redis: 'cluster', instances: infra.instances, infraDir: infra.infraDir });
    const apps = stack.state().topology.apps;
    prometheus = await startPrometheus({
      configDir: path.join(infra.infraDir, 'prometheus'),
      // The apps' METRICS_PORT on their own loopback addresses.
      targets: apps.map((app) => `${app.host}:9091`),
      intervalSeconds: SCRAPE_SECONDS,
    });
    instances = apps.map((app) => app.name);

    // Through nginx: SSE streams (spread over the instances by least_conn), a
    // note publisher (events, cache invalidations) and reads of the cached
    // notes list, plus a route that answers 404.
    // Halfway through the picture's window, more streams open.
    trafficStart = Date.now();
    const port = stack.port;
    const streams: SseClient[] = [];
    const openStreams = async (count: number) => {
      for (let i = 0; i < count; i++) streams.push(await SseClient.open({ port, path: '/api/v1/sse/events?channels=notes', keep: false }));
    };
    await openStreams(3);
    const moreStreams = setTimeout(() => void openStreams(6), (WARM_UP_SECONDS + PICTURE_SECONDS / 2) * 1000);
    const publisher = startPublisher({ port, label: 'dashboard', everyMs: 100 });
    const reads = startGetLoad({
      port,
      paths: ['/api/v1/notes', '/api/v1/ping', '/api/v1/notes', '/api/v1/stats', '/api/v1/missing'],
      workers: 3,
      perWorkerPerSecond: 25,
    });
    traffic = {
      async stop() {
        clearTimeout(moreStreams);
        await Promise.all([publisher.stop(), reads.stop()]);
        for (const stream of streams) stream.close();
      },
    };
  }, 300_000);

  afterAll(async () => {
    await traffic?.stop();
    await prometheus?.stop();
    await stack?.stop();
  }, 120_000);

  it('fills the instance variable from its own query', async () => {
    const instanceVariable = dashboard.templating.list.find((v) => v.name === 'instance')!;
    const { selector, label } = labelValuesQuery(instanceVariable);
    let values: string[] = [];
    const deadline = Date.now() + 20_000;
    while (values.length < instances.length && Date.now() < deadline) {
      values = await prometheus!.labelValues(label, selector);
      if (values.length < instances.length) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(values.sort()).toEqual([...instances].sort());
    // The default view is "All", which Grafana sends as the variable's allValue.
    expect(instanceVariable.includeAll).toBe(true);
    variables = { instance: instanceVariable.allValue!, __rate_interval: RATE_INTERVAL };
  });

  it('evaluates every target of every panel to a non-empty result holding a number', async () => {
    expect(Object.keys(variables)).not.toHaveLength(0);
    const queries = allTargets.map(({ panel, target }) => ({
      where: `"${panel.title}" ${target.refId}`,
      promql: substitute(target.expr, variables),
      // Labels the legend names must be on every series (a `by (namespace)` over series without one gives a blank legend).
      legendLabels: [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!),
    }));

    // Rates need two scrapes inside their window, recording rules a few
    // evaluations: poll until every query answers, then report what did not.
    let failures: string[] = [];
    const deadline = Date.now() + 60_000;
    do {
      failures = [];
      for (const { where, promql, legendLabels } of queries) {
        const answer = await prometheus!.query(promql);
        if (answer.status !== 'success') {
          failures.push(`${where}: ${answer.errorType}: ${answer.error}\n  ${promql}`);
          continue;
        }
        const { result } = answer.data;
        if (!result.some((sample) => Number.isFinite(Number(sample.value[1])))) {
          failures.push(`${where}: ${result.length === 0 ? 'empty result' : 'no finite value'}\n  ${promql}`);
        }
        const unlabelled = legendLabels.filter((label) => result.some((sample) => !sample.metric[label]));
        if (unlabelled.length > 0) failures.push(`${where}: series without ${unlabelled.join(', ')}\n  ${promql}`);
      }
      if (failures.length > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
    } while (failures.length > 0 && Date.now() < deadline);

    const exported = new Set(await prometheus!.metricNames());
    const unknown = [...new Set(queries.flatMap(({ promql }) => metricNames(promql)))].filter((name) => !exported.has(name));
    expect(unknown, 'metrics the panels read that neither the app nor a recording rule provides').toEqual([]);
    expect(failures, failures.join('\n')).toEqual([]);

    // The same check on a name the app does not export fails, so the one above has teeth.
    const misspelt = await prometheus!.query(`sum by (instance) (rate(http_requests_total{instance=~".+"}[${RATE_INTERVAL}]))`);
    expect(misspelt).toMatchObject({ status: 'success', data: { result: [] } });
    const broken = await prometheus!.query('sum by (instance (rate(http_request_duration_ms_count[10s]))');
    expect(broken.status).toBe('error');
  });

  it('draws the panels from the same queries to a PNG', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const wait = trafficStart + (WARM_UP_SECONDS + PICTURE_SECONDS) * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const end = Math.floor(Date.now() / 1000);
    const start = end - PICTURE_SECONDS - 5;
    const timestamps = Array.from({ length: end - start + 1 }, (_, i) => start + i);
    const series = new Map<number, DrawnSeries[]>();
    for (const panel of dashboard.panels) {
      const drawn: DrawnSeries[] = [];
      for (const target of panelTargets(panel)) {
        const answer = await prometheus!.queryRange(substitute(target.expr, variables), start, end, 1);
        if (answer.status !== 'success') throw new Error(`${panel.title} ${target.refId}: ${answer.error}`);
        for (const result of answer.data.result) {
          const values: Array<number | null> = timestamps.map(() => null);
          for (const [t, v] of result.values) {
            const n = Number(v);
            if (Number.isFinite(n)) values[Math.round(t) - start] = n;
          }
          drawn.push({ name: legend(target.legendFormat, result.metric), values });
        }
      }
      expect(drawn.length, panel.title).toBeGreaterThan(0);
      series.set(
        panel.id,
        drawn.sort((a, b) => a.name.localeCompare(b.name)),
      );
    }

    const out = path.join(ARTIFACTS, 'dashboard.png');
    await renderDashboardPng({
      dashboard,
      timestamps,
      series,
      subtitle: `Instance: All (${instances.join(', ')})  ·  last ${end - start} s  ·  scraped every ${SCRAPE_SECONDS} s`,
      caption:
        'Drawn from the PromQL of infra/grafana/dashboards/api-instances.json, evaluated by Prometheus (query_range) while tests drove traffic ' +
        'through `npm run stack` (3 instances, Redis Cluster, nginx). Not a Grafana screenshot: the same panels and queries, rendered with uPlot.',
      out,
      chromiumPath: CHROMIUM_PATH,
    });
    const png = readFileSync(out);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1440);
    expect(png.length).toBeGreaterThan(50_000);
    if (process.env.DASHBOARD_PNG) copyFileSync(out, path.resolve(process.env.DASHBOARD_PNG));
  });
});
