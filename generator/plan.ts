import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** One file of the generated project. */
export interface PlanEntry {
  /** Absolute path of the source file in the generator package. */
  source: string;
  /** Path inside the project, always with forward slashes. */
  target: string;
  /** `render` runs Handlebars over the file; `copy` writes it byte for byte. */
  kind: 'copy' | 'render';
}

export interface PlanSources {
  templatesDir: string;
  /** Canonical infra snippets, copied to `<project>/infra/`. Optional so tests can plan a bare template dir. */
  infraDir?: string | undefined;
}

/** The file the generator writes itself (answers + version), never taken from templates/. */
export const MANIFEST_FILE = 'volt-scaled.json';

/** Build output, caches and local state that live next to the templates while they are tested in place. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage', 'test-results', '.stack', '.git']);
/** Local secrets (.env, the Kubernetes Secrets' files) never leave the machine they were made on. */
const SKIPPED_FILES = new Set(['.env', 'secrets.env', 'api-secrets.env', '.DS_Store', MANIFEST_FILE]);
const SKIPPED_SUFFIXES = ['.log', '.tsbuildinfo'];

/** npm strips `.gitignore` from published packages, so the template ships it as `_gitignore`. */
const RENAMES: Record<string, string> = { _gitignore: '.gitignore' };

/**
 * infra/ files the Kubernetes manifests use as well. kustomize reads only files
 * under its own directory, so deploy/kubernetes/ gets copies of them: each one
 * where the templates have its folder (a package without the manifests, as
 * `upgrade` may render, gets none).
 */
export const KUSTOMIZE_COPIES: ReadonlyArray<{ infra: string; target: string }> = [
  { infra: 'redis/redis.conf', target: 'deploy/kubernetes/base/redis.conf' },
  { infra: 'redis/redis-start.sh', target: 'deploy/kubernetes/base/redis-start.sh' },
  { infra: 'redis/read-secret.sh', target: 'deploy/kubernetes/base/read-secret.sh' },
  { infra: 'redis/app-user.acl', target: 'deploy/kubernetes/base/app-user.acl' },
  { infra: 'redis/admin-cli.sh', target: 'deploy/kubernetes/base/admin-cli.sh' },
  { infra: 'redis/redis-cluster.conf', target: 'deploy/kubernetes/overlays/cluster/redis-cluster.conf' },
  { infra: 'redis/create-cluster.sh', target: 'deploy/kubernetes/overlays/cluster/create-cluster.sh' },
  // create-cluster.sh logs in through these two, from its own ConfigMap (the Job's).
  { infra: 'redis/admin-cli.sh', target: 'deploy/kubernetes/overlays/cluster/admin-cli.sh' },
  { infra: 'redis/read-secret.sh', target: 'deploy/kubernetes/overlays/cluster/read-secret.sh' },
];

/** The generated project's own plop templates: `.hbs` files that must stay templates. */
const VERBATIM_DIR = 'plop';

export function buildPlan(sources: PlanSources): PlanEntry[] {
  const entries: PlanEntry[] = [];
  for (const relative of listFiles(sources.templatesDir)) {
    entries.push(entryFor(sources.templatesDir, relative, ''));
  }
  if (sources.infraDir) {
    for (const relative of listFiles(sources.infraDir)) {
      entries.push(entryFor(sources.infraDir, relative, 'infra/'));
    }
    for (const copy of KUSTOMIZE_COPIES) {
      const source = path.join(sources.infraDir, ...copy.infra.split('/'));
      const folder = path.join(sources.templatesDir, ...path.posix.dirname(copy.target).split('/'));
      if (existsSync(source) && existsSync(folder)) entries.push({ source, target: copy.target, kind: 'copy' });
    }
  }
  assertNoDuplicateTargets(entries);
  return entries.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

function entryFor(root: string, relative: string, prefix: string): PlanEntry {
  const source = path.join(root, relative);
  const parts = relative.split(path.sep);
  const verbatim = prefix === '' && parts[0] === VERBATIM_DIR;
  let base = parts.pop() ?? '';
  let kind: PlanEntry['kind'] = 'copy';
  if (!verbatim && base.endsWith('.hbs')) {
    kind = 'render';
    base = base.slice(0, -'.hbs'.length);
  }
  base = RENAMES[base] ?? base;
  return { source, target: prefix + [...parts, base].join('/'), kind };
}

/** Relative paths of every file under root, pruned of build output and local state. */
function listFiles(root: string, relative = ''): string[] {
  const files: string[] = [];
  for (const dirent of readdirSync(path.join(root, relative), { withFileTypes: true })) {
    const child = relative ? path.join(relative, dirent.name) : dirent.name;
    if (dirent.isDirectory()) {
      if (!SKIPPED_DIRS.has(dirent.name)) files.push(...listFiles(root, child));
    } else if (dirent.isFile() && !isSkippedFile(dirent.name)) {
      files.push(child);
    }
  }
  return files;
}

function isSkippedFile(name: string): boolean {
  return SKIPPED_FILES.has(name) || SKIPPED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

function assertNoDuplicateTargets(entries: PlanEntry[]): void {
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const previous = seen.get(entry.target);
    if (previous) {
      throw new Error(`Two template files map to ${entry.target}: ${previous} and ${entry.source}`);
    }
    seen.set(entry.target, entry.source);
  }
}
