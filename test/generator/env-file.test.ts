import { describe, expect, it } from 'vitest';
import { envFromExample, randomRedisPassword } from '../../generator/env-file.js';

describe('.env from .env.example', () => {
  it('fills in the one empty REDIS_PASSWORD= line and changes nothing else', () => {
    const example = '# REDIS_PASSWORD=not-this-one\nPORT=3000\nREDIS_PASSWORD=\nREDIS_USERNAME=\n';
    expect(envFromExample(example, 'abc123')).toBe('# REDIS_PASSWORD=not-this-one\nPORT=3000\nREDIS_PASSWORD=abc123\nREDIS_USERNAME=\n');
  });

  it('refuses an example without exactly one line to fill in', () => {
    expect(() => envFromExample('PORT=3000\n# REDIS_PASSWORD=\n', 'x')).toThrow(/exactly one empty "REDIS_PASSWORD=" line to fill in; found 0/);
    expect(() => envFromExample('REDIS_PASSWORD=\nREDIS_PASSWORD=\n', 'x')).toThrow(/found 2/);
    expect(() => envFromExample('REDIS_PASSWORD=set-already\n', 'x')).toThrow(/found 0/);
  });

  it('makes 64 hex characters from the crypto RNG, different every time', () => {
    const passwords = new Set(Array.from({ length: 50 }, () => randomRedisPassword()));
    expect(passwords.size).toBe(50);
    for (const password of passwords) expect(password).toMatch(/^[0-9a-f]{64}$/);
  });
});
