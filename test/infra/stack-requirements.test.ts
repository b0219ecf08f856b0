import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findProgram, missingRequirements } from '../../templates/scripts/stack/requirements.js';

describe('npm run stack requirements', () => {
  it('names every missing program with the package that provides it', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'no-programs-'));
    const problems = missingRequirements(empty).join('\n');
    expect(problems).toContain('redis-server not found on PATH. Debian/Ubuntu: apt-get install redis-server');
    expect(problems).toContain('redis-cli not found on PATH. Debian/Ubuntu: apt-get install redis-tools');
    expect(problems).toContain('nginx not found on PATH. Debian/Ubuntu: apt-get install nginx');
    expect(problems).toContain('unshare not found on PATH');
  });

  it('finds executables only', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'programs-'));
    writeFileSync(path.join(dir, 'nginx'), '#!/bin/sh\n', { mode: 0o644 });
    expect(findProgram('nginx', dir)).toBeUndefined();
    writeFileSync(path.join(dir, 'redis-server'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findProgram('redis-server', dir)).toBe(path.join(dir, 'redis-server'));
  });
});
