import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileVersion, ProjectEntry } from './file-tree.js';

/** One write or removal, at a project-relative path. */
export type FileOperation = { path: string; write: FileVersion } | { path: string; remove: true };

/**
 * Writes every new file next to its target first; only when all of them are
 * on disk are they renamed into place and the removed files deleted. A
 * failure while staging leaves the project untouched; a failure while
 * renaming puts back what was already changed from `originals`.
 */
export async function applyChanges(projectDir: string, operations: readonly FileOperation[], originals: ReadonlyMap<string, ProjectEntry>): Promise<void> {
  const staged = new Map<string, string>();
  const createdDirs: string[] = [];
  try {
    for (const operation of operations) {
      if (!('write' in operation)) continue;
      const target = path.join(projectDir, operation.path);
      const created = await mkdir(path.dirname(target), { recursive: true });
      if (created) createdDirs.push(created);
      const temp = path.join(path.dirname(target), `.${path.basename(target)}.upgrade-${randomBytes(4).toString('hex')}`);
      staged.set(operation.path, temp);
      await writeFile(temp, operation.write.content, { flag: 'wx' });
      await chmod(temp, operation.write.mode);
    }
  } catch (error) {
    await discard(staged, createdDirs);
    throw error;
  }

  const done: FileOperation[] = [];
  try {
    for (const operation of operations) {
      const target = path.join(projectDir, operation.path);
      if ('write' in operation) await rename(staged.get(operation.path)!, target);
      else await rm(target, { force: true });
      done.push(operation);
    }
  } catch (error) {
    await restore(projectDir, done, originals);
    await discard(staged, createdDirs);
    throw error;
  }
  for (const operation of operations) {
    if ('remove' in operation) await removeEmptyParents(projectDir, operation.path);
  }
}

async function restore(projectDir: string, done: readonly FileOperation[], originals: ReadonlyMap<string, ProjectEntry>): Promise<void> {
  for (const operation of [...done].reverse()) {
    const target = path.join(projectDir, operation.path);
    const original = originals.get(operation.path);
    if (original && original !== 'not-a-file') {
      await writeFile(target, original.content);
      await chmod(target, original.mode);
    } else if ('write' in operation) {
      await rm(target, { force: true });
    }
  }
}

/** Removes staged files not yet renamed and the directories made for them. */
async function discard(staged: ReadonlyMap<string, string>, createdDirs: readonly string[]): Promise<void> {
  for (const temp of staged.values()) await rm(temp, { force: true });
  for (const dir of [...createdDirs].reverse()) await rm(dir, { recursive: true, force: true });
}

/** A template folder whose last file was removed goes too; a folder with anything else in it stays. */
async function removeEmptyParents(projectDir: string, file: string): Promise<void> {
  let dir = path.dirname(path.join(projectDir, file));
  while (dir !== projectDir && dir.startsWith(projectDir)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = path.dirname(dir);
  }
}
