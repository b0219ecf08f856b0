import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REDIS_SECRET_FILES, SECRETS_DIR, writeEnvFile, writeRedisSecrets } from '../../generator/env-file.js';
import { composeSchemaErrors, dockerComposeConfig } from './support/compose-validation.js';
import { type Flavour, renderProjectFiles } from './support/render-project-files.js';

const composeAndInfra = (target: string) => target === 'docker-compose.yml' || target === '.env.example' || target.startsWith('infra/');
const env = {};

/** The compose file with infra/, and the .env and secrets/ the generator writes next to it. */
async function renderWithEnv(flavour: Flavour): Promise<string> {
  const dir = await renderProjectFiles(flavour, composeAndInfra);
  await writeEnvFile(dir);
  await writeRedisSecrets(dir);
  return dir;
}

interface Service {
  environment?: Record<string, string>;
  command?: string[];
  user?: string;
  secrets?: string[];
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
      // The app's own Redis user; its password from the secret file, never from
      // the environment (a password set in .env for npm run dev must not reach it).
      expect(environment.REDIS_USERNAME).toBe('app');
      expect(environment.REDIS_PASSWORD).toBe('');
      expect(environment.REDIS_PASSWORD_FILE).toBe('/run/secrets/redis-app-password');
      expect(services[app]!.secrets).toEqual(['redis-app-password']);
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
    for (const name of redisServices.filter((s) => s !== 'redis-cluster-init')) {
      const redis = services[name]!;
      expect(redis.healthcheck).toBeDefined();
      // Started by redis-start.sh as the image's redis user, passwords from secret files, data on a volume of its own.
      expect(redis.command!.slice(0, 3)).toEqual(['sh', '/usr/local/etc/redis/redis-start.sh', '/usr/local/etc/redis/redis.conf']);
      expect(JSON.stringify(redis.command)).not.toMatch(/requirepass|masterauth|PASSWORD/);
      expect(redis.user).toBe('redis');
      expect(redis.secrets).toEqual(['redis-admin-password', 'redis-app-password']);
      expect(redis.environment).toMatchObject({
        REDIS_ADMIN_PASSWORD_FILE: '/run/secrets/redis-admin-password',
        REDIS_APP_PASSWORD_FILE: '/run/secrets/redis-app-password',
      });
      expect(redis.volumes).toContain(`${name}-data:/data`);
    }
    const volumes = Object.keys((doc as { volumes?: Record<string, unknown> }).volumes ?? {});
    expect(volumes).toEqual(flavour.redis === 'cluster' ? [1, 2, 3, 4, 5, 6].map((i) => `redis-${i}-data`) : ['redis-data']);
    // No password in any service's environment or command: `docker inspect` shows both.
    for (const [name, service] of Object.entries(services)) {
      for (const value of [...Object.values(service.environment ?? {}), ...(service.command ?? [])]) {
        expect(String(value), name).not.toMatch(/[0-9a-f]{64}/);
      }
    }
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
      .map((v) => v.split(':')[0]!)
      // Named volumes are Docker's, not the project's.
      .filter((source) => source.startsWith('.'));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of new Set(sources)) expect(existsSync(path.join(dir, source)), source).toBe(true);
    const secrets = (doc as { secrets?: Record<string, { file: string }> }).secrets ?? {};
    expect(Object.values(secrets).map((secret) => secret.file)).toEqual(REDIS_SECRET_FILES.map((file) => `./${SECRETS_DIR}/${file}`));
    for (const secret of Object.values(secrets)) expect(existsSync(path.join(dir, secret.file)), secret.file).toBe(true);
  });
});

describe('compose validation', () => {
  it('reads no Redis password from .env: a REDIS_PASSWORD there for npm run dev does not reach the containers', async () => {
    const dir = await renderWithEnv({ redis: 'standalone', instances: 2 });
    const example = await readFile(path.join(dir, '.env.example'), 'utf8');
    expect(example).not.toMatch(/^REDIS_PASSWORD=/m);
    await writeFile(path.join(dir, '.env'), `${example}REDIS_PASSWORD=set-for-npm-run-dev\n`);
    const { code, output } = await dockerComposeConfig(path.join(dir, 'docker-compose.yml'), {}, ['config']);
    expect(code, output).toBe(0);
    const services = (parse(output) as { services: Record<string, { environment?: Record<string, string> }> }).services;
    expect(services.app1!.environment!.REDIS_PASSWORD).toBe('');
    expect(output).not.toContain('set-for-npm-run-dev');
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
