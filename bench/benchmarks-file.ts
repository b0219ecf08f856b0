import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'BENCHMARKS.md');

/**
 * Puts `section` (which starts with its `## heading` line) into BENCHMARKS.md
 * in place of the section with the same heading, or at the end when there is
 * none; the other sections stay as they are.
 */
export function writeBenchmarkSection(section: string): void {
  const heading = section.slice(0, section.indexOf('\n')).trim();
  const text = section.endsWith('\n') ? section : `${section}\n`;
  const content = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = content.split('\n').findIndex((line) => line.trim() === heading);
  if (start === -1) {
    writeFileSync(file, `${content.trimEnd()}\n\n${text}`);
    return;
  }
  const lines = content.split('\n');
  const next = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  const before = lines.slice(0, start).join('\n');
  const after = next === -1 ? '' : `\n${lines.slice(next).join('\n')}`;
  writeFileSync(file, `${before}${before ? '\n' : ''}${text}${after}`);
}
