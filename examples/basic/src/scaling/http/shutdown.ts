import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';

/** Something shutdown closes after the requests and jobs that may still use it. */
export interface ShutdownResource {
  name: string;
  close(): Promise<void>;
}

/** A node:http server (the metrics port's) as a resource; none when it was never started. */
export function serverResource(name: string, server: Server | undefined): ShutdownResource {
  return { name, close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())) };
}

export interface ShutdownOptions {
  server: Server;
  /** Fails readiness first, so load balancers stop routing here. */
  health: { startDraining(): void };
  /** Requests in flight, from the operations listener. */
  requests: { readonly inFlight: number; whenIdle(): Promise<void> };
  /** Time for load balancers to see the failing readiness before we stop accepting. */
  drainMs: number;
  /** Past this, exit 1 whatever is still open. */
  timeoutMs: number;
  /** Ends every SSE stream with a short `retry:` so clients reconnect elsewhere. */
  realtime?: { close(): Promise<void> } | undefined;
  /**
   * Job workers: they stop taking jobs as the shutdown starts, and the
   * running jobs finish before the resources close. A job still running at
   * the deadline is left to another worker (its lock expires).
   */
  jobs?: { stopWorkers(): Promise<void> } | undefined;
  /** Closed last, after the requests that may still use them. */
  resources?: ShutdownResource[];
  /** Flushed (pino's `flush`) before exiting, so the last lines are not lost. */
  logger?: (Logger & { flush?(): void }) | undefined;
  /** Injected by tests; default `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * Graceful shutdown in the order a load-balanced instance needs:
 * readiness fails and job workers stop taking jobs, wait the drain delay,
 * stop accepting, end SSE streams, let in-flight requests and running jobs
 * finish while idle keep-alive sockets are closed, close Redis, exit 0. A deadline turns a stuck step into exit 1, and so does a
 * second signal (an impatient operator).
 */
export function createShutdown(options: ShutdownOptions) {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const log = options.logger;
  let started: Promise<void> | undefined;

  function finish(code: number): void {
    log?.flush?.();
    exit(code);
  }

  async function run(reason: string): Promise<void> {
    const { server } = options;
    const deadline = setTimeout(() => {
      log?.error({ reason, inFlight: options.requests.inFlight, timeoutMs: options.timeoutMs }, 'shutdown deadline passed, forcing exit');
      finish(1);
    }, options.timeoutMs);
    log?.info({ reason, drainMs: options.drainMs }, 'shutting down: readiness now fails');

    options.health.startDraining();
    const workersStopped = options.jobs?.stopWorkers().catch((error: unknown) => log?.error({ err: error }, 'stopping job workers failed'));
    if (options.drainMs > 0) await sleep(options.drainMs);

    // Stop accepting. Keep-alive sockets are closed as soon as they are idle:
    // now, and again as each in-flight response (SSE streams included) ends.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const sweeper = setInterval(() => server.closeIdleConnections(), 50);
    await options.realtime?.close().catch((error: unknown) => log?.error({ err: error }, 'closing SSE streams failed'));
    server.closeIdleConnections();
    await options.requests.whenIdle();
    clearInterval(sweeper);
    server.closeAllConnections();
    await closed;
    await workersStopped;

    for (const resource of options.resources ?? []) {
      await resource.close().catch((error: unknown) => log?.error({ err: error, resource: resource.name }, 'close failed'));
    }
    clearTimeout(deadline);
    log?.info({ reason }, 'shutdown complete');
    finish(0);
  }

  return {
    /** Start the shutdown (idempotent); resolves when done, just before exit. */
    shutdown(reason: string): Promise<void> {
      started ??= run(reason);
      return started;
    },
    /** SIGTERM/SIGINT start the shutdown; a second signal exits 1 at once. */
    installSignalHandlers(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
      for (const signal of signals) {
        process.on(signal, () => {
          if (started) {
            log?.error({ signal }, 'second signal during shutdown, exiting now');
            finish(1);
            return;
          }
          void this.shutdown(signal);
        });
      }
    },
  };
}

export type Shutdown = ReturnType<typeof createShutdown>;
