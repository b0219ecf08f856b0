import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, type PlanSources } from '../plan.js';
import type { TemplateAnswers } from '../template-data.js';

/** One file's bytes and permission bits. */
export interface FileVersion {
  content: Buffer;
  mode: number;
}

/** Project-relative path (forward slashes) -> file. */
export type FileTree = Map<string, FileVersion>;

/** A path in the user's project: a file, or something else (a directory, a symlink) the upgrade leaves alone. */
export type ProjectEntry = FileVersion | 'not-a-file';

/**
 * A template version as a project generated from it would be: rendered by the
 * same code that creates projects, into dir, and read back. volt-scaled.json
 * is left out; the upgrade writes it itself.
 */
export async function renderTemplateTree(sources: PlanSources, answers: TemplateAnswers, version: string, dir: string): Promise<FileTree> {
  const { renderProject } = await import('../render.js');
  await renderProject(sources, answers, version, dir);
  const tree: FileTree = new Map();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const absolute = path.join(entry.parentPath, entry.name);
    const relative = path.relative(dir, absolute).split(path.sep).join('/');
    if (relative !== MANIFEST_FILE) tree.set(relative, await readVersion(absolute));
  }
  return tree;
}

/** The given paths as they are in the project now; missing paths are absent from the map. */
export async function readProjectEntries(projectDir: string, paths: Iterable<string>): Promise<Map<string, ProjectEntry>> {
  const entries = new Map<string, ProjectEntry>();
  for (const relative of paths) {
    const absolute = path.join(projectDir, relative);
    const stats = await lstat(absolute).catch((error: NodeJS.ErrnoException) => {
      // ENOTDIR: a parent of the path is a file, so the path does not exist either.
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (stats) entries.set(relative, stats.isFile() ? await readVersion(absolute) : 'not-a-file');
  }
  return entries;
}

async function readVersion(file: string): Promise<FileVersion> {
  const [content, stats] = await Promise.all([readFile(file), lstat(file)]);
  return { content, mode: stats.mode & 0o7777 };
}
