import path from 'node:path';
import type { FileTree, FileVersion, ProjectEntry } from './file-tree.js';
import { dependenciesDiffer, mergePackageJson } from './package-json-merge.js';
import { decodeText, mergeText, toCrlf, toLf, usesCrlf, type MergeLabels } from './text-merge.js';

export type Outcome = 'updated' | 'merged' | 'conflicted' | 'added' | 'removed' | 'kept';
export const OUTCOMES: readonly Outcome[] = ['updated', 'merged', 'conflicted', 'added', 'removed', 'kept'];

/** What the upgrade does to one path of the project. Paths it leaves as they are have no change. */
export interface FileChange {
  path: string;
  outcome: Outcome;
  /** Why a file was kept or conflicted, and values kept in package.json. */
  notes: string[];
  /** The new bytes and mode for path. */
  write?: FileVersion;
  remove?: true;
  /** A binary file cannot carry conflict markers: the template's version is written next to it. */
  sidecar?: { path: string; file: FileVersion };
}

export interface UpgradePlan {
  changes: FileChange[];
  /** package.json's dependencies changed, so the lockfile and node_modules need an install. */
  dependenciesChanged: boolean;
}

export interface UpgradeInputs {
  /** The old template rendered with the project's answers. */
  base: FileTree;
  /** The new template rendered with the same answers. */
  theirs: FileTree;
  /** The project's files at every template path (and every sidecar path); missing paths are absent. */
  ours: ReadonlyMap<string, ProjectEntry>;
  /** Why a path is a local file (git-ignored, secrets) that the upgrade never overwrites or removes; undefined for other paths. */
  localFileReason: (path: string) => string | undefined;
  labels: MergeLabels;
}

/** Where a binary file's template version goes when both sides changed it. */
export function sidecarPath(file: string): string {
  return `${file}.from-template`;
}

/** Decides every file's outcome, in memory; nothing is read or written here. */
export function planUpgrade(inputs: UpgradeInputs): UpgradePlan {
  const paths = [...new Set([...inputs.base.keys(), ...inputs.theirs.keys()])].sort();
  const changes = paths.map((file) => planFile(file, inputs)).filter((change) => change !== undefined);
  const newPackageJson = changes.find((change) => change.path === 'package.json')?.write;
  const oldPackageJson = inputs.ours.get('package.json');
  const dependenciesChanged =
    newPackageJson !== undefined &&
    (oldPackageJson === undefined ||
      oldPackageJson === 'not-a-file' ||
      dependenciesDiffer(oldPackageJson.content.toString('utf8'), newPackageJson.content.toString('utf8')));
  return { changes, dependenciesChanged };
}

function planFile(file: string, inputs: UpgradeInputs): FileChange | undefined {
  const base = inputs.base.get(file);
  const theirs = inputs.theirs.get(file);
  const ours = inputs.ours.get(file);
  const templateChanged = !base || !theirs || !sameFile(base, theirs);

  if (ours === 'not-a-file') {
    return templateChanged && theirs ? kept(file, 'not a regular file in your project; left as it is') : undefined;
  }
  const localReason = inputs.localFileReason(file);
  if (localReason) {
    // Created only when new in the template: a local file missing from a fresh clone is not the upgrade's to recreate.
    if (!ours) return theirs && !base ? { path: file, outcome: 'added', notes: [], write: theirs } : undefined;
    return templateChanged && theirs && !ours.content.equals(theirs.content) ? kept(file, `${localReason}: never overwritten`) : undefined;
  }
  if (!theirs) {
    if (!ours || !base) return undefined;
    return unchangedByUser(ours, base) ? { path: file, outcome: 'removed', notes: [], remove: true } : kept(file, 'the template dropped it; you changed it');
  }
  if (!ours) {
    if (!base) return { path: file, outcome: 'added', notes: [], write: theirs };
    return templateChanged ? kept(file, 'you deleted it; the template changed it, so it was not restored') : undefined;
  }
  return mergeFile(file, { ours, base, theirs }, inputs);
}

/** Both the user's project and the new template have the file. */
function mergeFile(
  file: string,
  sides: { ours: FileVersion; base: FileVersion | undefined; theirs: FileVersion },
  inputs: UpgradeInputs,
): FileChange | undefined {
  const { ours, base, theirs } = sides;
  const crlf = isCrlfText(ours.content);
  const o = normalized(ours.content, crlf);
  const b = base ? normalized(base.content, crlf) : Buffer.alloc(0);
  const t = normalized(theirs.content, crlf);
  const restore = (content: Buffer) => (crlf && decodeText(content) !== undefined ? Buffer.from(toCrlf(content.toString('utf8'))) : content);

  // The executable bit, three-way like the content: the template's where the user kept the old one.
  const executable = base && isExecutable(ours) === isExecutable(base) ? isExecutable(theirs) : isExecutable(ours);
  const mode = withExecutable(ours.mode, executable);

  let content: Buffer;
  let outcome: Outcome;
  const notes: string[] = [];
  let sidecar: FileChange['sidecar'];
  if (o.equals(t)) {
    content = ours.content;
    outcome = 'updated';
  } else if (base && o.equals(b)) {
    content = restore(t);
    outcome = 'updated';
  } else if (base && t.equals(b)) {
    content = ours.content;
    outcome = 'merged';
  } else if (file === 'package.json' && base) {
    const merged = mergePackageJson(ours.content.toString('utf8'), base.content.toString('utf8'), theirs.content.toString('utf8'));
    content = Buffer.from(merged.text);
    notes.push(...merged.notes);
    outcome = content.equals(ours.content) ? 'kept' : 'merged';
  } else {
    const texts = [o, b, t].map(decodeText);
    if (texts.every((text) => text !== undefined)) {
      const [oText, bText, tText] = texts as [string, string, string];
      const merged = mergeText(oText, bText, tText, inputs.labels);
      content = restore(Buffer.from(merged.text));
      outcome = merged.conflicts > 0 ? 'conflicted' : 'merged';
      if (!base) notes.push('you have a file of your own at this path');
      if (merged.conflicts > 0) notes.push(`${merged.conflicts} conflict${merged.conflicts === 1 ? '' : 's'}`);
    } else {
      content = ours.content;
      outcome = 'conflicted';
      const sidecarFile = sidecarPath(file);
      if (inputs.ours.has(sidecarFile)) {
        notes.push(`binary file changed on both sides; yours kept (${sidecarFile} exists, so the template's version was not written)`);
      } else {
        sidecar = { path: sidecarFile, file: theirs };
        notes.push(`binary file changed on both sides; yours kept, the template's version is ${path.posix.basename(sidecarFile)}`);
      }
    }
  }

  if (content.equals(ours.content) && mode === ours.mode && outcome !== 'conflicted') {
    return outcome === 'kept' && notes.length > 0 ? { path: file, outcome, notes } : undefined;
  }
  return { path: file, outcome, notes, write: { content, mode }, ...(sidecar ? { sidecar } : {}) };
}

function kept(file: string, note: string): FileChange {
  return { path: file, outcome: 'kept', notes: [note] };
}

function sameFile(a: FileVersion, b: FileVersion): boolean {
  return a.content.equals(b.content) && isExecutable(a) === isExecutable(b);
}

function unchangedByUser(ours: FileVersion, base: FileVersion): boolean {
  const crlf = isCrlfText(ours.content);
  return normalized(ours.content, crlf).equals(normalized(base.content, crlf)) && isExecutable(ours) === isExecutable(base);
}

/** A file checked out with CRLF (a Windows checkout of LF files) is compared and merged as LF, then written back with CRLF. */
function isCrlfText(content: Buffer): boolean {
  const text = decodeText(content);
  return text !== undefined && usesCrlf(text);
}

function normalized(content: Buffer, crlf: boolean): Buffer {
  if (!crlf) return content;
  const text = decodeText(content);
  return text === undefined ? content : Buffer.from(toLf(text));
}

function isExecutable(file: FileVersion): boolean {
  return (file.mode & 0o111) !== 0;
}

/** Sets or clears the executable bits where the mode has read bits, as chmod +x / -x would. */
function withExecutable(mode: number, executable: boolean): number {
  return executable ? mode | ((mode & 0o444) >> 2) : mode & ~0o111;
}
