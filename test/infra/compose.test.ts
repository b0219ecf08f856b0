import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeEnvFile } from '../../generator/env-file.js';
import { composeSchemaErrors, dockerComposeConfig } from './support/compose-validation.js';
import { type Flavour, renderProjectFiles } from './support/render-project-files.js';

const composeAndInfra = (target: string) => target === 'docker-compose.yml' || target === '.env.example' || target.startsWith('infra/');
const env = { REDIS_PASSWORD: 'compose-check-password' };

/** The compose file with infra/ and the .env the generator writes next to it. */
async function renderWithEnv(flavour: Flavour, password?: string): Promise<string> {
  const dir = await renderProjectFiles(flavour, composeAndInfra);
  await writeEnvFile(dir, password);
  return dir;
}

interface Service {
  environment?: Record<string, string>;
  env_file?: string | string[];
  ports?: string[];
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
      dir = await renderWithEnv(flavour);
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
      expect(services[app]!.env_file).toBe('.env');
      expect(environment.INSTANCE_ID).toBe(app);
      expect(environment.NODE_ENV).toBe('production');
      expect(environment.REDIS_PASSWORD).toMatch(/REDIS_PASSWORD/);
      // Redis settings in .env (for npm run dev) must not reach the containers.
      expect(environment.REDIS_USERNAME).toBe('');
      // Prometheus reaches the metrics port on the compose network (the app's default is loopback).
      expect(environment.METRICS_HOST).toBe('0.0.0.0');
      // Behind nginx, which sets every request's id.
      expect(environment.TRUST_REQUEST_ID).toBe('true');
      if (flavour.redis === 'cluster') {
        expect(environment.REDIS_CLUSTER_NODES).toBe('redis-1:6379,redis-2:6379,redis-3:6379,redis-4:6379,redis-5:6379,redis-6:6379');
        expect(environment.REDIS_NAT_MAP).toBe('');
        expect(services[app]!.depends_on).toEqual({ 'redis-cluster-init': { condition: 'service_completed_successfully' } });
      } else {
        expect(environment.REDIS_URL).toBe('redis://redis:6379');
        expect(environment.REDIS_CLUSTER_NODES).toBe('');
        expect(environment.REDIS_CLUSTER_HOSTS).toBe('');
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
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own variable syntax, as written in the file
    expect(services.nginx!.ports).toEqual(['${NGINX_PORT:-8080}:8080']);
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
  it('stops with a message naming the fix when .env is missing or its REDIS_PASSWORD is empty', async () => {
    const fix = 'REDIS_PASSWORD is not set - put it in .env: cp .env.example .env, then set REDIS_PASSWORD to a long random value';
    const withoutEnv = await renderProjectFiles({ redis: 'cluster', instances: 2 }, composeAndInfra);
    const missing = await dockerComposeConfig(path.join(withoutEnv, 'docker-compose.yml'), {});
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain(fix);

    const withEmpty = await renderProjectFiles({ redis: 'standalone', instances: 2 }, composeAndInfra);
    const example = await readFile(path.join(withEmpty, '.env.example'), 'utf8');
    expect(example).toMatch(/^REDIS_PASSWORD=$/m);
    await writeFile(path.join(withEmpty, '.env'), example);
    const empty = await dockerComposeConfig(path.join(withEmpty, 'docker-compose.yml'), {});
    expect(empty.code).not.toBe(0);
    expect(empty.output).toContain(fix);
  });

  it('publishes nginx where NGINX_PORT in .env says, on 8080 without it', async () => {
    const dir = await renderWithEnv({ redis: 'standalone', instances: 2 });
    const file = path.join(dir, 'docker-compose.yml');
    const envFile = path.join(dir, '.env');
    /** nginx's published port as `[host_ip:]published:target` (docker-compose prints either form). */
    const published = async () => {
      const { code, output } = await dockerComposeConfig(file, {}, ['config']);
      expect(code, output).toBe(0);
      const port = (parse(output) as { services: Record<string, { ports: Array<string | { published: number; target: number; host_ip?: string }> }> }).services
        .nginx!.ports[0]!;
      return typeof port === 'string' ? port.replace(/\/tcp$/, '') : `${port.host_ip ? `${port.host_ip}:` : ''}${port.published}:${port.target}`;
    };
    const original = await readFile(envFile, 'utf8');
    expect(original).toMatch(/^NGINX_PORT=8080$/m);
    expect(await published()).toBe('8080:8080');
    await writeFile(envFile, original.replace(/^NGINX_PORT=.*$/m, 'NGINX_PORT=8081'));
    expect(await published()).toBe('8081:8080');
    await writeFile(envFile, original.replace(/^NGINX_PORT=.*$/m, 'NGINX_PORT=127.0.0.1:18081'));
    expect(await published()).toBe('127.0.0.1:18081:8080');
    await writeFile(envFile, original.replace(/^NGINX_PORT=.*$/m, ''));
    expect(await published()).toBe('8080:8080');
  });

  it('rejects a broken file with both validators', async () => {
    const dir = await renderWithEnv({ redis: 'standalone', instances: 2 });
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
