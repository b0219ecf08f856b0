/**
 * App instances as separate OS processes, the way they run behind a load
 * balancer: `node --import tsx src/server.ts` (one process, so SIGKILL kills the
 * app itself, not a wrapper), each with its own port, Redis connections and
 * event loop. Every process started here is killed when the test process exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const execFileAsync = promisify(execFile);
const projectRoot = path.resolve(import.meta.dirname, '..', '..');

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface AppProcess {
  name: string;
  port: number;
  url: string;
  pid: number;
  output(): string;
  /** Resident set size in KiB, from /proc. */
  rssKiB(): number;
  /**
   * V8 heap in use after two full garbage collections, through the inspector
   * (only for apps started with `inspect: true`): unlike RSS, it falls back
   * when memory is released.
   */
  heapUsedAfterGc(): Promise<number>;
  /** The same, with the memory held outside the V8 heap (Buffers): `process.memoryUsage()` after two collections. */
  memoryAfterGc(): Promise<NodeJS.MemoryUsage>;
  /** SIGTERM: graceful shutdown. */
  stop(): Promise<void>;
  /** The exit code once the process has exited (null while it runs, or when a signal killed it). */
  exitCode(): number | null;
  /** SIGKILL: the instance dies with its connections open. */
  kill(): Promise<void>;
}

export interface StartAppOptions {
  /** Open the inspector on a free loopback port (for `heapUsedAfterGc`). */
  inspect?: boolean;
  /** The script to run (default `src/server.ts`); it must log a `"msg":"listening"` line with its `url`, or `ready`. */
  entry?: string;
  /** The log line that tells the process is ready, for entries without an HTTP server. */
  ready?: RegExp;
  /** The node binary to run the app with (default: the one running the tests). */
  node?: string;
  /** More modules to preload with `--import`, after tsx. */
  imports?: string[];
}

export async function startApp(name: string, env: Record<string, string>, options: StartAppOptions = {}): Promise<AppProcess> {
  const flags = options.inspect ? ['--inspect=127.0.0.1:0'] : [];
  const imports = (options.imports ?? []).flatMap((specifier) => ['--import', specifier]);
  const child = spawn(options.node ?? process.execPath, [...flags, '--import', 'tsx', ...imports, options.entry ?? 'src/server.ts'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      METRICS_PORT: 'off',
      LOG_LEVEL: 'warn',
      INSTANCE_ID: name,
      // A note's background job publishes note.stats on the notes channel:
      // workers run only where a test asks for them (JOBS_WORKERS: 'on'), so
      // the others see the events they cause and nothing else.
      JOBS_WORKERS: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${output}`)), 60_000);
    const poll = setInterval(() => {
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening"/.exec(output);
      const ready = options.ready?.test(output) ? 'http://127.0.0.1:0' : undefined;
      if (match?.[1] || ready) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(match?.[1] ?? ready!);
      }
    }, 20);
    void exited.then(() => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`${name} exited with ${child.exitCode} before listening:\n${output}`));
    });
  });
  const port = Number(new URL(url).port);

  async function probeAfterGc(): Promise<{ heap: { usedSize: number }; memory: NodeJS.MemoryUsage }> {
    const inspector = /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
    if (!inspector) throw new Error(`${name} was not started with inspect: true`);
    // WebSocket is global from Node 22; Node 20 needs the flag.
    const flags = typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function' ? [] : ['--experimental-websocket'];
    const { stdout } = await execFileAsync(process.execPath, [...flags, '--no-warnings', '-e', GC_PROBE, inspector]);
    return JSON.parse(stdout);
  }

  async function signal(kind: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(kind);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  return {
    name,
    port,
    url,
    pid: child.pid!,
    output: () => output,
    rssKiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    },
    async heapUsedAfterGc() {
      return (await probeAfterGc()).heap.usedSize;
    },
    async memoryAfterGc() {
      return (await probeAfterGc()).memory;
    },
    stop: () => signal('SIGTERM'),
    exitCode: () => child.exitCode,
    kill: () => signal('SIGKILL'),
  };
}

/** POST JSON to an app; resolves with the status and the parsed envelope. */
export async function postJson(app: AppProcess, pathname: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${app.url}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** Chrome DevTools protocol over the inspector's WebSocket: collect garbage, then read the heap and the process's memory. */
const GC_PROBE = `
const ws = new WebSocket(process.argv[1]);
let next = 0;
const waiting = new Map();
const send = (method, params = {}) => new Promise((resolve) => { const id = ++next; waiting.set(id, resolve); ws.send(JSON.stringify({ id, method, params })); });
ws.onmessage = (message) => { const reply = JSON.parse(message.data); waiting.get(reply.id)?.(reply.result); };
ws.onopen = async () => {
  await send('HeapProfiler.collectGarbage');
  await send('HeapProfiler.collectGarbage');
  const heap = await send('Runtime.getHeapUsage');
  const usage = await send('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  process.stdout.write(JSON.stringify({ heap, memory: JSON.parse(usage.result.value) }));
  ws.close();
  process.exit(0);
};
setTimeout(() => process.exit(2), 10000);
`;
