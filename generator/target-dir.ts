import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';

export type TargetState = 'missing' | 'empty' | 'non-empty' | 'file';

/** What is at the project path now; decides whether writing there is allowed. */
export async function inspectTarget(targetDir: string): Promise<TargetState> {
  let stats: Stats;
  try {
    stats = await stat(targetDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  if (!stats.isDirectory()) return 'file';
  return (await readdir(targetDir)).length === 0 ? 'empty' : 'non-empty';
}
