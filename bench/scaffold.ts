/**
 * Scaffold time without install: the built CLI (`npm run build` first) as a
 * user runs it, a fresh process each time, into a new directory each time.
 * Usage: tsx bench/scaffold.ts [runs]   (default 15)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 15);
const work = mkdtempSync(path.join(tmpdir(), 'cvs-bench-'));

// A snapshot of the package (as npm would install it), so edits to templates/
// during the run cannot change or break what is measured.
const snapshot = path.join(work, 'package');
for (const entry of ['package.json', 'dist', 'templates', 'infra']) {
  cpSync(path.join(root, entry), path.join(snapshot, entry), { recursive: true, filter: (source) => !source.includes('node_modules') });
}
symlinkSync(path.join(root, 'node_modules'), path.join(snapshot, 'node_modules'));
const cli = path.join(snapshot, 'dist', 'generator', 'cli.js');

const flavours = [
  { name: 'default', args: ['--yes', '--no-install', '--no-git'] },
  { name: 'cluster, 3 instances', args: ['--yes', '--redis', 'cluster', '--instances', '3', '--no-install', '--no-git'] },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const times = new Map<string, number[]>(flavours.map((f) => [f.name, []]));
try {
  // Alternate the flavours so both see the same machine load.
  for (let i = 0; i < runs; i++) {
    for (const flavour of flavours) {
      const started = process.hrtime.bigint();
      const result = spawnSync(process.execPath, [cli, `app-${i}-${flavour.name.length}`, ...flavour.args], {
        cwd: work,
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0) throw new Error(`scaffold failed: ${result.stderr}`);
      times.get(flavour.name)!.push(ms);
    }
  }
  for (const [name, values] of times) {
    console.log(
      `${name.padEnd(22)} median ${median(values).toFixed(0)} ms  min ${Math.min(...values).toFixed(0)} ms  max ${Math.max(...values).toFixed(0)} ms  (${values.length} runs)`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
