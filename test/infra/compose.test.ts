import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeSchemaErrors, dockerComposeConfig } from './support/compose-validation.js';
import { type Flavour, renderProjectFiles } from './support/render-project-files.js';

const composeAndInfra = (target: string) => target === 'docker-compose.yml' || target.startsWith('infra/');
const env = { REDIS_PASSWORD: 'compose-check-password' };

interface Service {
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  profiles?: string[];
  healthcheck?: unknown;
}

const flavours: Flavour[] = [
  { redis: 'cluster', instances: 1 },
  { redis: 'cluster', instances: 3 },
  { redis: 'cluster', instances: 16 },
  { redis: 'standalone', instances: 1 },
  { redis: 'standalone', instances: 3 },
  { redis: 'standalone', instances: 16 },
];

describe.each(flavours)('docker-compose.yml for --redis $redis --instances $instances', (flavour) => {
  let dir = '';
  let file = '';
  const render = async () => {
    if (!dir) {
      dir = await renderProjectFiles(flavour, composeAndInfra);
      file = path.join(dir, 'docker-compose.yml');
    }
  };

  it('is valid against the Compose Specification schema', async () => {
    await render();
    expect(await composeSchemaErrors(file)).toEqual([]);
  });

  it('is accepted by docker-compose config', async () => {
    await render();
    const { code, output } = await dockerComposeConfig(file, env);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('runs the topology the answers asked for', async () => {
    await render();
    const doc = parse(await readFile(file, 'utf8'), { merge: true, maxAliasCount: -1 }) as { name?: string; services: Record<string, Service> };
    expect(doc.name).toBeUndefined();
    const services = doc.services;
    const apps = Object.keys(services).filter((s) => /^app\d+$/.test(s));
    expect(apps).toEqual(Array.from({ length: flavour.instances }, (_, i) => `app${i + 1}`));
    for (const app of apps) {
      const environment = services[app]!.environment!;
      expect(environment.INSTANCE_ID).toBe(app);
      expect(environment.REDIS_PASSWORD).toMatch(/REDIS_PASSWORD/);
      if (flavour.redis === 'cluster') {
        expect(environment.REDIS_CLUSTER_NODES).toBe('redis-1:6379,redis-2:6379,redis-3:6379,redis-4:6379,redis-5:6379,redis-6:6379');
        expect(services[app]!.depends_on).toEqual({ 'redis-cluster-init': { condition: 'service_completed_successfully' } });
      } else {
        expect(environment.REDIS_URL).toBe('redis://redis:6379');
        expect(services[app]!.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
      }
    }
    const redisServices = Object.keys(services).filter((s) => s.startsWith('redis'));
    if (flavour.redis === 'cluster') {
      expect(redisServices.sort()).toEqual(['redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6', 'redis-cluster-init']);
      for (let i = 1; i <= 6; i++) expect(services[`redis-${i}`]!.depends_on).toBeUndefined();
    } else {
      expect(redisServices).toEqual(['redis']);
    }
    for (const name of redisServices.filter((s) => s !== 'redis-cluster-init')) expect(services[name]!.healthcheck).toBeDefined();
    expect(Object.keys(services.nginx!.depends_on!)).toEqual(apps);
    expect(Object.values(services.nginx!.depends_on!).every((d) => d.condition === 'service_healthy')).toBe(true);
    expect(services.prometheus!.profiles).toEqual(['monitoring']);
    expect(services.grafana!.profiles).toEqual(['monitoring']);
  });

  it('mounts only files the project contains', async () => {
    await render();
    const doc = parse(await readFile(file, 'utf8'), { merge: true, maxAliasCount: -1 }) as { services: Record<string, Service> };
    const sources = Object.values(doc.services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => v.split(':')[0]!);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of new Set(sources)) expect(existsSync(path.join(dir, source)), source).toBe(true);
  });
});

describe('compose validation', () => {
  it('stops with a clear message when REDIS_PASSWORD is not set', async () => {
    const dir = await renderProjectFiles({ redis: 'cluster', instances: 2 }, composeAndInfra);
    const { code, output } = await dockerComposeConfig(path.join(dir, 'docker-compose.yml'), {});
    expect(code).not.toBe(0);
    expect(output).toContain('set REDIS_PASSWORD in .env');
  });

  it('rejects a broken file with both validators', async () => {
    const dir = await renderProjectFiles({ redis: 'standalone', instances: 2 }, composeAndInfra);
    const file = path.join(dir, 'docker-compose.yml');
    // A misspelt key inside a service, and a port given as a mapping of the wrong type.
    const broken = (await readFile(file, 'utf8'))
      .replace('  nginx:\n', '  nginx:\n    restart_policy: always\n')
      .replace('stop_grace_period: 25s', 'stop_grace_period: [20]');
    expect(broken).toContain('restart_policy');
    expect(broken).toContain('stop_grace_period: [20]');
    await writeFile(file, broken);

    const schemaErrors = await composeSchemaErrors(file);
    expect(schemaErrors.join('\n')).toContain('restart_policy');
    expect(schemaErrors.join('\n')).toContain('stop_grace_period');

    const { code, output } = await dockerComposeConfig(file, env);
    expect(code).not.toBe(0);
    expect(output).toMatch(/restart_policy|stop_grace_period/);
  });
});
