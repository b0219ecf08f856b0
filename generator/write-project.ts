import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TargetState } from './target-dir.js';

/**
 * Kept when --force replaces a directory's contents: a user's history and
 * local settings (secrets that are in no repository) are not ours to delete.
 */
export const KEPT_ON_FORCE = ['.git', '.env', 'secrets'];

/**
 * Renders the project into a temporary sibling directory and moves it into
 * place only when every file was written, so a failure leaves neither a
 * half-written project nor the temporary directory behind.
 */
export async function writeProjectAtomically(options: {
  targetDir: string;
  name: string;
  state: Exclude<TargetState, 'file'>;
  render: (dir: string) => Promise<void>;
}): Promise<void> {
  const { targetDir, name, state, render } = options;
  const parent = path.dirname(targetDir);
  const createdAncestor = await firstMissingAncestor(parent);
  await mkdir(parent, { recursive: true });
  // A sibling, not os.tmpdir(): rename() only works within one filesystem.
  // mkdir rather than mkdtemp: mkdtemp's 0700 mode would become the project's.
  const tempDir = path.join(parent, `.${name}-tmp-${randomBytes(4).toString('hex')}`);
  await mkdir(tempDir);
  try {
    await render(tempDir);
    await moveIntoPlace(tempDir, targetDir, state);
  } catch (error) {
    await rm(tempDir, { recursive: true, force: true });
    if (createdAncestor) await rm(createdAncestor, { recursive: true, force: true });
    throw error;
  }
}

async function moveIntoPlace(tempDir: string, targetDir: string, state: Exclude<TargetState, 'file'>): Promise<void> {
  if (state === 'missing') {
    await rename(tempDir, targetDir);
    return;
  }
  if (state === 'empty') {
    await rmdir(targetDir);
    await rename(tempDir, targetDir);
    return;
  }
  // Non-empty with --force: keep the directory itself (it may be the shell's
  // working directory), replace what is inside it.
  for (const entry of await readdir(targetDir)) {
    if (!KEPT_ON_FORCE.includes(entry)) await rm(path.join(targetDir, entry), { recursive: true, force: true });
  }
  const kept = new Set(await readdir(targetDir));
  for (const entry of await readdir(tempDir)) {
    if (!kept.has(entry)) await rename(path.join(tempDir, entry), path.join(targetDir, entry));
  }
  await rm(tempDir, { recursive: true, force: true });
}

/** The outermost directory on the way to dir that does not exist yet, to remove again on failure. */
async function firstMissingAncestor(dir: string): Promise<string | undefined> {
  let missing: string | undefined;
  let current = dir;
  for (;;) {
    try {
      await stat(current);
      return missing;
    } catch {
      missing = current;
      const up = path.dirname(current);
      if (up === current) return missing;
      current = up;
    }
  }
}
