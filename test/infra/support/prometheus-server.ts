/**
 * A real Prometheus (Debian's `prometheus` package) on a free loopback port,
 * with the project's own scrape configuration and rules, pointed at the
 * metrics ports of a running stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../../support/free-port.js';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RangeSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

type ApiAnswer<T> = { status: 'success'; data: T } | { status: 'error'; errorType: string; error: string };

export interface PrometheusServer {
  url: string;
  /** Instant query at `time` (default now): the answer as the API gives it, errors included. */
  query(promql: string, time?: number): Promise<ApiAnswer<{ resultType: string; result: Sample[] }>>;
  queryRange(promql: string, start: number, end: number, stepSeconds: number): Promise<ApiAnswer<{ resultType: string; result: RangeSeries[] }>>;
  /** Every metric name Prometheus has a series of. */
  metricNames(): Promise<string[]>;
  /** Values of `label` over the series matching `selector`. */
  labelValues(label: string, selector: string): Promise<string[]>;
  stop(): Promise<void>;
}

function prometheusBinary(): string {
  const found = [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin']
    .map((dir) => path.join(dir, 'prometheus'))
    .find((candidate) => existsSync(candidate));
  if (!found) throw new Error('prometheus is not installed (Debian/Ubuntu: `apt-get install prometheus`; its service need not run).');
  return found;
}

/**
 * Starts Prometheus with `configDir`'s prometheus.yml and alerts.yml (a
 * rendered project's infra/prometheus), its scrape targets replaced by
 * `targets` and every interval set to `intervalSeconds`, so a test sees rates
 * and recording rules after a few seconds instead of minutes.
 */
export async function startPrometheus(options: { configDir: string; targets: string[]; intervalSeconds: number }): Promise<PrometheusServer> {
  const binary = prometheusBinary();
  const dir = mkdtempSync(path.join(tmpdir(), 'prometheus-'));
  const config = parse(readFileSync(path.join(options.configDir, 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
  };
  const interval = `${options.intervalSeconds}s`;
  config.global = { ...config.global, scrape_interval: interval, evaluation_interval: interval };
  if (config.scrape_configs.length !== 1) throw new Error('expected one scrape job in prometheus.yml');
  config.scrape_configs[0]!.static_configs = [{ targets: options.targets }];
  writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
  copyFileSync(path.join(options.configDir, 'alerts.yml'), path.join(dir, 'alerts.yml'));

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async <T>(pathAndQuery: string): Promise<ApiAnswer<T>> => {
    const response = await fetch(`${url}${pathAndQuery}`);
    return (await response.json()) as ApiAnswer<T>;
  };
  const data = async <T>(pathAndQuery: string): Promise<T> => {
    const answer = await api<T>(pathAndQuery);
    if (answer.status !== 'success') throw new Error(`Prometheus ${pathAndQuery}: ${answer.error}`);
    return answer.data;
  };

  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`);
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    query: (promql, time = Date.now() / 1000) => api(`/api/v1/query?${new URLSearchParams({ query: promql, time: String(time) })}`),
    queryRange: (promql, start, end, step) =>
      api(`/api/v1/query_range?${new URLSearchParams({ query: promql, start: String(start), end: String(end), step: String(step) })}`),
    metricNames: () => data<string[]>('/api/v1/label/__name__/values'),
    labelValues: (label, selector) => data<string[]>(`/api/v1/label/${label}/values?${new URLSearchParams({ 'match[]': selector })}`),
    stop,
  };
}
