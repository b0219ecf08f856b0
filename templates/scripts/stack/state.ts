import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StackSecrets } from './secrets.js';
import type { Topology } from './topology.js';

/** One process the supervisor started, in its own process group (pgid = pid). */
export interface StackProcess {
  name: string;
  role: 'redis' | 'app' | 'nginx';
  pid: number;
  address: string;
  log: string;
  exitCode?: number | null;
  signal?: string | null;
}

/** `.stack/state.json`: what runs, written by the supervisor, read by `status`, `stop` and tests. */
export interface StackState {
  status: 'starting' | 'ready' | 'failed' | 'stopping' | 'stopped';
  supervisorPid: number;
  url: string;
  topology: Topology;
  processes: StackProcess[];
  error?: string;
}

/** Everything the supervisor needs, written by `stack start` before it spawns it. */
export interface StackPlan {
  projectRoot: string;
  stateDir: string;
  infraDir: string;
  nginxConfig: string;
  nginxPrefix: string;
  hostsFile: string;
  topology: Topology;
  secrets: StackSecrets;
  programs: { redisServer: string; redisCli: string; nginx: string };
}

export const stateFile = (stateDir: string) => path.join(stateDir, 'state.json');
export const planFile = (stateDir: string) => path.join(stateDir, 'plan.json');

/** The plan of the last start, if any (it names the subnet the kept Redis data belongs to). */
export function readPlan(stateDir: string): StackPlan | undefined {
  const file = planFile(stateDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackPlan;
}

export function readState(stateDir: string): StackState | undefined {
  const file = stateFile(stateDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}

/** Write-then-rename: a reader never sees half a file. Owner-only: the state of a stack is nobody else's business. */
export function writeJsonAtomically(file: string, value: unknown): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}
