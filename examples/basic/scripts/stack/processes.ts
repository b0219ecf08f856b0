import { readdirSync, readFileSync } from 'node:fs';

/** pid, state and process group of a live process, from /proc; undefined when gone or a zombie. */
function procStat(pid: number): { state: string; pgid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0]!;
    if (state === 'Z' || state === 'X') return undefined;
    return { state, pgid: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

export function isRunning(pid: number): boolean {
  return procStat(pid) !== undefined;
}

/** Every live process in the given process groups (each started process leads its own group). */
export function livingInGroups(pgids: readonly number[]): number[] {
  const wanted = new Set(pgids);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && wanted.has(stat.pgid)) found.push(Number(entry));
  }
  return found;
}

/** Signals a whole process group (nginx's workers with their master); ignores groups already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until check() is true; false when the deadline passes first. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** SIGTERM (or `signal`) to each group, then SIGKILL whatever is still alive after graceMs. */
export async function stopGroups(pgids: readonly number[], graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number[]> {
  for (const pgid of pgids) signalGroup(pgid, signal);
  await waitFor(() => livingInGroups(pgids).length === 0, graceMs);
  for (const pid of livingInGroups(pgids)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  await waitFor(() => livingInGroups(pgids).length === 0, 5_000);
  return livingInGroups(pgids);
}
