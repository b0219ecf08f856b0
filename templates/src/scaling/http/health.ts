/**
 * Health checks in the shape of the IETF draft "Health Check Response Format
 * for HTTP APIs" (`application/health+json`): an overall `status` of
 * pass|warn|fail and `checks` keyed `component:measurement`, each a list of
 * observations. Checks are pluggable, e.g. a database:
 *
 *   health.addCheck('postgres:connection', async () => ({
 *     componentType: 'datastore', status: (await pool.query('select 1')) ? 'pass' : 'fail' }));
 */
import type { ServerResponse } from 'node:http';
import { memoryUsage } from 'node:process';

export type HealthStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  status: HealthStatus;
  componentId?: string;
  componentType?: string;
  observedValue?: unknown;
  observedUnit?: string;
  output?: string;
}

export interface CheckObservation extends CheckResult {
  time: string;
}

export type HealthCheck = () => Promise<CheckResult> | CheckResult;

export interface HealthReport {
  status: HealthStatus;
  version: string;
  serviceId: string;
  description: string;
  checks: Record<string, CheckObservation[]>;
}

/** What readiness needs from the Redis connections module. */
export interface PingableRedis {
  ping(timeoutMs?: number): Promise<boolean>;
  /** Why the connection failed last, if it did (shown in the failing check's output). */
  lastError?(): string | undefined;
}

export interface HealthOptions {
  serviceId: string;
  version: string;
  description?: string;
  /**
   * Redis must answer PING within `timeoutMs` to count as reachable. Absent in
   * embedded mode (no Redis configured): readiness then only reflects draining.
   */
  redis?: { connections: PingableRedis; timeoutMs: number } | undefined;
  /** RSS above this warns (the instance still serves). Default 1 GiB. */
  memoryWarnBytes?: number;
}

export interface Health {
  addCheck(name: string, check: HealthCheck): void;
  /** Readiness fails from now on: the load balancer stops sending new work here. */
  startDraining(): void;
  readonly draining: boolean;
  /** Not draining and, when configured, Redis reachable within the timeout. */
  ready(): Promise<{ ready: boolean; reason?: string }>;
  report(): Promise<HealthReport>;
}

export function createHealth(options: HealthOptions): Health {
  const checks = new Map<string, HealthCheck>();
  const memoryWarnBytes = options.memoryWarnBytes ?? 1024 ** 3;
  const startedAt = Date.now();
  let draining = false;

  // Probes from several load balancers may arrive together: share one PING.
  let pendingPing: Promise<{ ok: boolean; ms: number }> | undefined;
  function pingRedis(redis: NonNullable<HealthOptions['redis']>): Promise<{ ok: boolean; ms: number }> {
    pendingPing ??= (async () => {
      const start = performance.now();
      const ok = await redis.connections.ping(redis.timeoutMs).catch(() => false);
      return { ok, ms: Math.round((performance.now() - start) * 100) / 100 };
    })().finally(() => {
      pendingPing = undefined;
    });
    return pendingPing;
  }

  const failure = (redis: NonNullable<HealthOptions['redis']>) => {
    const cause = redis.connections.lastError?.();
    return `no PONG within ${redis.timeoutMs} ms${cause ? `: ${cause}` : ''}`;
  };

  if (options.redis) {
    const redis = options.redis;
    checks.set('redis:connection', async () => {
      const { ok, ms } = await pingRedis(redis);
      return {
        componentId: 'redis',
        componentType: 'datastore',
        observedValue: ms,
        observedUnit: 'ms',
        status: ok ? 'pass' : 'fail',
        ...(ok ? {} : { output: failure(redis) }),
      };
    });
  }
  checks.set('memory:utilization', () => {
    const rss = memoryUsage.rss();
    return { componentType: 'system', observedValue: rss, observedUnit: 'bytes', status: rss > memoryWarnBytes ? 'warn' : 'pass' };
  });
  checks.set('uptime', () => ({
    componentType: 'system',
    observedValue: Math.round((Date.now() - startedAt) / 1000),
    observedUnit: 's',
    status: 'pass',
  }));

  async function runCheck(check: HealthCheck): Promise<CheckResult> {
    try {
      return await check();
    } catch (error) {
      return { status: 'fail', output: error instanceof Error ? error.message : String(error) };
    }
  }

  return {
    addCheck(name, check) {
      if (checks.has(name)) throw new Error(`health check "${name}" is already registered`);
      checks.set(name, check);
    },
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    async ready() {
      if (draining) return { ready: false, reason: 'draining' };
      if (options.redis && !(await pingRedis(options.redis)).ok) return { ready: false, reason: 'redis unreachable' };
      return { ready: true };
    },
    async report() {
      const names = [...checks.keys()];
      const results = await Promise.all(names.map((name) => runCheck(checks.get(name)!)));
      const time = new Date().toISOString();
      const report: HealthReport = {
        status: 'pass',
        version: options.version,
        serviceId: options.serviceId,
        description: options.description ?? 'API instance',
        checks: {},
      };
      names.forEach((name, i) => {
        const result = results[i]!;
        report.checks[name] = [{ ...result, time }];
        report.status = worst(report.status, result.status);
      });
      if (draining) {
        report.checks['shutdown:draining'] = [{ componentType: 'system', observedValue: true, status: 'fail', time }];
        report.status = 'fail';
      }
      return report;
    },
  };
}

const RANK: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };
function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[b] > RANK[a] ? b : a;
}

const HEALTH_TYPE = 'application/health+json';

/** A health answer: `application/health+json`, never cached, no body for HEAD. */
export function writeHealth(res: ServerResponse, status: number, body: Buffer): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': HEALTH_TYPE, 'cache-control': 'no-store', 'content-length': body.length });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** The full report (every check with its details): 503 when it fails. */
export async function sendHealthReport(health: Health, res: ServerResponse): Promise<void> {
  const report = await health.report();
  writeHealth(res, report.status === 'fail' ? 503 : 200, Buffer.from(JSON.stringify(report)));
}
