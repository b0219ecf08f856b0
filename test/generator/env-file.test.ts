import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomRedisPassword, REDIS_SECRET_FILES, writeEnvFile, writeRedisSecrets } from '../../generator/env-file.js';

const modeOf = async (file: string) => ((await stat(file)).mode & 0o777).toString(8);

describe('the local files the generator writes', () => {
  it('.env: a copy of .env.example, readable by its owner only', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cvs-env-'));
    try {
      await writeFile(path.join(dir, '.env.example'), 'PORT=3000\n# REDIS_PASSWORD=\n');
      await writeEnvFile(dir);
      expect(await readFile(path.join(dir, '.env'), 'utf8')).toBe('PORT=3000\n# REDIS_PASSWORD=\n');
      expect(await modeOf(path.join(dir, '.env'))).toBe('600');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('secrets/: one random password per Redis user, in a directory only its owner can enter', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cvs-secrets-'));
    try {
      await writeRedisSecrets(dir);
      expect((await readdir(path.join(dir, 'secrets'))).sort()).toEqual([...REDIS_SECRET_FILES].sort());
      expect(await modeOf(path.join(dir, 'secrets'))).toBe('700');
      const passwords = [];
      for (const file of REDIS_SECRET_FILES) {
        passwords.push(await readFile(path.join(dir, 'secrets', file), 'utf8'));
        // Readable inside containers that run as other users (compose bind-mounts the file as it is).
        expect(await modeOf(path.join(dir, 'secrets', file))).toBe('644');
      }
      for (const password of passwords) expect(password).toMatch(/^[0-9a-f]{64}\n$/);
      expect(new Set(passwords).size).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('makes 64 hex characters from the crypto RNG, different every time', () => {
    const passwords = new Set(Array.from({ length: 50 }, () => randomRedisPassword()));
    expect(passwords.size).toBe(50);
    for (const password of passwords) expect(password).toMatch(/^[0-9a-f]{64}$/);
  });
});
