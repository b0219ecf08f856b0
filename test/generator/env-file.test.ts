import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFromExample, randomSecret, randomSecrets, REDIS_SECRET_FILES, writeEnvFile, writeRedisSecrets } from '../../generator/env-file.js';

const modeOf = async (file: string) => ((await stat(file)).mode & 0o777).toString(8);

describe('.env from .env.example', () => {
  it('fills in the one empty line of each secret and changes nothing else', () => {
    const example = '# AUTH_SECRET=not-this-one\nPORT=3000\nREDIS_PASSWORD=\nAUTH_SECRET=\n';
    expect(envFromExample(example, { AUTH_SECRET: 'def456' })).toBe('# AUTH_SECRET=not-this-one\nPORT=3000\nREDIS_PASSWORD=\nAUTH_SECRET=def456\n');
    // A secret not given keeps its empty line (unset).
    expect(envFromExample(example, {})).toBe(example);
  });

  it('refuses an example without exactly one line to fill in', () => {
    expect(() => envFromExample('PORT=3000\n# AUTH_SECRET=\n', { AUTH_SECRET: 'x' })).toThrow(/exactly one empty "AUTH_SECRET=" line to fill in; found 0/);
    expect(() => envFromExample('AUTH_SECRET=\nAUTH_SECRET=\n', { AUTH_SECRET: 'x' })).toThrow(/found 2/);
    expect(() => envFromExample('AUTH_SECRET=set-already\n', { AUTH_SECRET: 'x' })).toThrow(/found 0/);
  });

  it('makes 64 hex characters from the crypto RNG, different every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => randomSecret()));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(randomSecrets().AUTH_SECRET).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('the local files the generator writes', () => {
  it('.env: .env.example with a random AUTH_SECRET, readable by its owner only', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cvs-env-'));
    try {
      await writeFile(path.join(dir, '.env.example'), 'PORT=3000\n# REDIS_PASSWORD=\nAUTH_SECRET=\n');
      await writeEnvFile(dir);
      const env = await readFile(path.join(dir, '.env'), 'utf8');
      expect(env).toMatch(/^PORT=3000\n# REDIS_PASSWORD=\nAUTH_SECRET=[0-9a-f]{64}\n$/);
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
});
