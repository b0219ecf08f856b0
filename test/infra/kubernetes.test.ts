import { readFileSync } from 'node:fs';
import { appendFile, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KUSTOMIZE_COPIES } from '../../generator/plan.js';
import { createApp } from '../../templates/src/app.js';
import { loadConfig } from '../../templates/src/config.js';
import { startMetricsServer } from '../../templates/src/scaling/http/metrics-endpoint.js';
import { describeObject, fieldErrors, type KubeObject, schemaErrors } from './support/kubernetes-validation.js';
import { editRootKustomization, kustomize, run, secretsCommand } from './support/kustomize.js';
import { type Flavour, renderProjectFiles } from './support/render-project-files.js';

// The manifests and everything they must agree with: infra/, compose, the Dockerfile.
const deployAndInfra = (target: string) =>
  target.startsWith('deploy/') || target.startsWith('infra/') || target === 'docker-compose.yml' || target === 'Dockerfile';

const repoRoot = path.join(import.meta.dirname, '..', '..');
const overlays = ['standalone', 'cluster'] as const;

interface Project {
  flavour: Flavour;
  dir: string;
  /** kubectl apply -k deploy/kubernetes, as generated: the overlay of --redis, no components. */
  asGenerated: KubeObject[];
  /** Each overlay with both optional components turned on. */
  withComponents: Record<(typeof overlays)[number], KubeObject[]>;
}

const projects: Project[] = [];

async function generate(flavour: Flavour): Promise<Project> {
  const dir = await renderProjectFiles(flavour, deployAndInfra);
  await run(await secretsCommand(dir), dir);
  const asGenerated = await kustomize(path.join(dir, 'deploy/kubernetes'));
  const withComponents = {} as Project['withComponents'];
  for (const overlay of overlays) {
    await editRootKustomization(dir, { overlay, components: true });
    withComponents[overlay] = await kustomize(path.join(dir, 'deploy/kubernetes'));
  }
  return { flavour, dir, asGenerated, withComponents };
}

beforeAll(async () => {
  for (const flavour of [
    { redis: 'standalone', instances: 2 },
    { redis: 'cluster', instances: 3 },
    { redis: 'standalone', instances: 1 },
    { redis: 'cluster', instances: 16 },
  ] as const) {
    projects.push(await generate(flavour));
  }
});
afterAll(async () => {
  for (const project of projects) await rm(project.dir, { recursive: true, force: true });
});

const allRenders = () => projects.flatMap((p) => [p.asGenerated, ...Object.values(p.withComponents)]);
const find = (objects: KubeObject[], kind: string, name: string): any => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} in the render: ${objects.map(describeObject).join(', ')}`);
  return found;
};
/** Generated ConfigMaps and Secrets carry a content hash in their names. */
const findGenerated = (objects: KubeObject[], kind: string, name: string): any => {
  const found = objects.find((o) => o.kind === kind && new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name));
  if (!found) throw new Error(`no generated ${kind} ${name}-<hash> in the render`);
  return found;
};
const podSpecOf = (workload: any) => workload.spec.template.spec;
const containerNamed = (workload: any, name: string) => podSpecOf(workload).containers.find((c: any) => c.name === name);
const decode = (secret: any): Record<string, string> =>
  Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

/** The app's environment in a pod: the ConfigMap, the Secrets and the downward API. */
function podEnvironment(objects: KubeObject[]): Record<string, string> {
  const config = findGenerated(objects, 'ConfigMap', 'api-config');
  const secret = decode(findGenerated(objects, 'Secret', 'redis-auth'));
  const apiSecrets = decode(findGenerated(objects, 'Secret', 'api-secrets'));
  return { ...config.data, ...apiSecrets, REDIS_PASSWORD: secret.REDIS_APP_PASSWORD!, INSTANCE_ID: 'api-7d9f8-abcde' };
}

describe('deploy/kubernetes renders with kustomize', () => {
  it('as generated: the overlay of --redis, in the project namespace', () => {
    for (const { flavour, asGenerated } of projects) {
      const redis = asGenerated.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name);
      expect(redis).toEqual([flavour.redis === 'cluster' ? 'redis-cluster' : 'redis']);
      expect(asGenerated.some((o) => o.kind === 'Job')).toBe(flavour.redis === 'cluster');
      expect(asGenerated.some((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toBe(false);
      expect(find(asGenerated, 'Namespace', 'infra-check').kind).toBe('Namespace');
      for (const o of asGenerated.filter((o) => o.kind !== 'Namespace')) expect(o.metadata.namespace, describeObject(o)).toBe('infra-check');
    }
  });

  it('each overlay with the components: ServiceMonitor, PrometheusRule and NetworkPolicies added', () => {
    for (const { withComponents } of projects) {
      for (const overlay of overlays) {
        const kinds = withComponents[overlay].map(describeObject);
        expect(kinds).toEqual(expect.arrayContaining(['ServiceMonitor/api', 'PrometheusRule/api', 'NetworkPolicy/api', 'NetworkPolicy/redis']));
        expect(kinds).toContain(overlay === 'cluster' ? 'StatefulSet/redis-cluster' : 'StatefulSet/redis');
        for (const o of withComponents[overlay].filter((o) => o.kind !== 'Namespace')) expect(o.metadata.namespace, describeObject(o)).toBe('infra-check');
      }
    }
  });

  it('refuses to render without the Secret file, naming it', async () => {
    const dir = await renderProjectFiles({ redis: 'standalone', instances: 2 }, deployAndInfra);
    try {
      await expect(kustomize(path.join(dir, 'deploy/kubernetes'))).rejects.toThrow(/secrets\.env/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the documented commands fill the Secrets with fresh random values: one password per Redis user, and the API's AUTH_SECRET", () => {
    const secrets = projects.map((p) => decode(findGenerated(p.asGenerated, 'Secret', 'redis-auth')));
    for (const secret of secrets) expect(Object.keys(secret).sort()).toEqual(['REDIS_ADMIN_PASSWORD', 'REDIS_APP_PASSWORD']);
    const apiSecrets = projects.map((p) => decode(findGenerated(p.asGenerated, 'Secret', 'api-secrets')));
    for (const secret of apiSecrets) expect(Object.keys(secret)).toEqual(['AUTH_SECRET']);
    const values = [
      ...secrets.flatMap((secret) => [secret.REDIS_ADMIN_PASSWORD, secret.REDIS_APP_PASSWORD]),
      ...apiSecrets.map((secret) => secret.AUTH_SECRET),
    ];
    for (const value of values) expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('every rendered object is valid Kubernetes', () => {
  it('against the Kubernetes 1.34 OpenAPI schemas and the Prometheus Operator CRDs', async () => {
    for (const objects of allRenders()) expect(await schemaErrors(objects)).toEqual([]);
  });

  it('with no unknown field anywhere', () => {
    // One type-check for every distinct object of every render.
    const distinct = new Map(
      allRenders()
        .flat()
        .map((o) => [JSON.stringify(o), o]),
    );
    expect(fieldErrors([...distinct.values()])).toEqual([]);
  });

  it('and the validators reject what a cluster would reject', async () => {
    const deployment = structuredClone(find(projects[0]!.asGenerated, 'Deployment', 'api'));
    const container = containerNamed(deployment, 'api');
    container.readinesProbe = container.readinessProbe;
    deployment.spec.replicas = 'two';
    const monitor = structuredClone(find(projects[0]!.withComponents.standalone, 'ServiceMonitor', 'api'));
    monitor.spec.endpoints[0].interval = 15;
    const unknownKind = { apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } };

    const schema = await schemaErrors([deployment, monitor, unknownKind]);
    expect(schema.join('\n')).toMatch(/Deployment\/api: .*replicas must be integer/);
    expect(schema.join('\n')).toMatch(/ServiceMonitor\/api: .*interval must be string/);
    expect(schema.join('\n')).toContain('Deploymnet/x: no schema for apps/v1 Deploymnet');
    expect(fieldErrors([deployment]).join('\n')).toMatch(/Deployment\/api: .*'"readinesProbe"' does not exist/);
  });
});

describe('the manifests agree with the app', () => {
  it('sets only variables src/config.ts reads, with values it accepts', () => {
    const read = new Set<string>();
    const recorder = new Proxy({} as NodeJS.ProcessEnv, {
      get(target, key) {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key);
      },
    });
    loadConfig(recorder);
    expect(read).toContain('REDIS_CLUSTER_NODES');
    for (const objects of allRenders()) {
      const environment = podEnvironment(objects);
      for (const name of Object.keys(environment)) expect(read, `${name} is not a variable src/config.ts knows`).toContain(name);
      const config = loadConfig(environment);
      expect(config.env).toBe('production');
      expect(config.redis.mode).not.toBe('none');
    }
  });

  it('points the probes, the Service and the ServiceMonitor at ports the app listens on', () => {
    for (const objects of projects.flatMap((p) => Object.values(p.withComponents))) {
      const config = loadConfig(podEnvironment(objects));
      const container = containerNamed(find(objects, 'Deployment', 'api'), 'api');
      const portsByName = Object.fromEntries(container.ports.map((p: any) => [p.name, p.containerPort]));
      expect(portsByName).toEqual({ http: config.port, metrics: config.metricsPort });
      // Prometheus scrapes the pod's address: the metrics port must not stay on loopback (the app's default).
      expect(config.metricsHost).toBe('0.0.0.0');
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(container[probe].httpGet.port).toBe('http');

      const service = find(objects, 'Service', 'api');
      for (const port of service.spec.ports) expect(portsByName[port.targetPort], port.name).toBe(port.port);
      const servicePorts = service.spec.ports.map((p: any) => p.name);
      for (const ingress of objects.filter((o: any) => o.kind === 'Ingress') as any[]) {
        for (const p of ingress.spec.rules.flatMap((r: any) => r.http.paths)) {
          expect(p.backend.service.name).toBe('api');
          expect(p.backend.service.port.name).toBe('http');
        }
      }
      const monitor = find(objects, 'ServiceMonitor', 'api');
      expect(servicePorts).toContain(monitor.spec.endpoints[0].port);
      expect(monitor.spec.endpoints[0].port).toBe('metrics');
    }
  });

  it('probes paths the app answers, on the port the ConfigMap gives it', async () => {
    const objects = projects[0]!.asGenerated;
    const container = containerNamed(find(objects, 'Deployment', 'api'), 'api');
    const monitor = find(projects[0]!.withComponents.standalone, 'ServiceMonitor', 'api');
    // The pod's own settings, with Redis left out (in-memory adapters) and ports the OS picks.
    const environment = Object.fromEntries(Object.entries(podEnvironment(objects)).filter(([name]) => !name.startsWith('REDIS_')));
    const config = loadConfig({ ...environment, PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1', METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    const app = createApp(config);
    await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
    const metrics = await startMetricsServer({ registry: app.metrics.registry, health: app.health, port: 0, host: '127.0.0.1' });
    try {
      const status = async (port: number, urlPath: string) => (await fetch(`http://127.0.0.1:${port}${urlPath}`)).status;
      const appPort = (app.server.address() as AddressInfo).port;
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(await status(appPort, container[probe].httpGet.path), probe).toBe(200);
      }
      expect(await status((metrics.address() as AddressInfo).port, monitor.spec.endpoints[0].path)).toBe(200);
      // The same check fails on a path the app does not serve.
      expect(await status(appPort, '/health/started')).toBe(404);
    } finally {
      await new Promise<void>((resolve) => metrics.close(() => resolve()));
      await app.close();
    }
  });

  it('gives a stopping pod longer than its preStop pause, drain and shutdown deadline', () => {
    for (const objects of allRenders()) {
      const deployment = find(objects, 'Deployment', 'api');
      const config = loadConfig(podEnvironment(objects));
      const preStopSeconds = containerNamed(deployment, 'api').lifecycle.preStop.sleep.seconds as number;
      const needed = preStopSeconds + (config.shutdownDrainMs + config.shutdownTimeoutMs) / 1000;
      expect(config.shutdownDrainMs).toBeGreaterThan(0);
      expect(podSpecOf(deployment).terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed + 5);
    }
  });

  it('runs the image docker compose builds, with its ports and its user', async () => {
    for (const project of projects) {
      const compose = parse(await readFile(path.join(project.dir, 'docker-compose.yml'), 'utf8'), { merge: true, maxAliasCount: -1 }) as {
        services: Record<string, { image?: string; environment?: Record<string, string> }>;
      };
      const dockerfile = await readFile(path.join(project.dir, 'Dockerfile'), 'utf8');
      const exposed = /^EXPOSE (.+)$/m.exec(dockerfile)![1]!.split(/\s+/).map(Number);
      for (const objects of [project.asGenerated, ...Object.values(project.withComponents)]) {
        const deployment = find(objects, 'Deployment', 'api');
        const container = containerNamed(deployment, 'api');
        expect(container.image).toBe(compose.services.app1!.image);
        expect(container.ports.map((p: any) => p.containerPort)).toEqual(exposed);
        const config = findGenerated(objects, 'ConfigMap', 'api-config').data;
        expect(config.PORT).toBe(compose.services.app1!.environment!.PORT);
        expect(config.METRICS_PORT).toBe(compose.services.app1!.environment!.METRICS_PORT);
        // USER node: uid and gid 1000 in the official Node.js images.
        expect(dockerfile).toMatch(/^USER node$/m);
        expect(podSpecOf(deployment).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
      }
    }
  });

  it('serves SSE through the Ingress like infra/nginx: unbuffered, long reads, same body size', async () => {
    const nginx = await readFile(path.join(projects[0]!.dir, 'infra/nginx/nginx.conf'), 'utf8');
    const bodySize = /^\s*client_max_body_size (\S+);/m.exec(nginx)![1];
    const nginxSsePath = /location (\/\S+\/sse\/) \{/.exec(nginx)![1];
    for (const objects of allRenders()) {
      const config = loadConfig(podEnvironment(objects));
      const sse = find(objects, 'Ingress', 'api-sse');
      const api = find(objects, 'Ingress', 'api');
      expect(sse.spec.rules[0].http.paths.map((p: any) => p.path)).toEqual([`${config.basePath}/sse/`]);
      expect(`${config.basePath}/sse/`).toBe(nginxSsePath);
      const annotation = (ingress: any, name: string) => ingress.metadata.annotations[`nginx.ingress.kubernetes.io/${name}`];
      expect(annotation(sse, 'proxy-buffering')).toBe('off');
      expect(Number(annotation(sse, 'proxy-read-timeout'))).toBeGreaterThan((4 * config.realtime.heartbeatMs) / 1000);
      for (const ingress of [api, sse]) {
        expect(ingress.spec.ingressClassName).toBe('nginx');
        expect(annotation(ingress, 'proxy-body-size')).toBe(bodySize);
      }
      expect(bodySize).toBe('1m');
      expect(config.bodyLimitBytes).toBe(1024 * 1024);
    }
  });

  it('carries infra/prometheus/alerts.yml as the PrometheusRule, and scrapes as its job', async () => {
    const alerts = parse(await readFile(path.join(repoRoot, 'infra/prometheus/alerts.yml'), 'utf8')) as { groups: unknown[] };
    const scrape = await readFile(path.join(repoRoot, 'infra/prometheus/prometheus.yml.hbs'), 'utf8');
    for (const project of projects) {
      for (const overlay of overlays) {
        const rule = find(project.withComponents[overlay], 'PrometheusRule', 'api');
        expect(rule.spec).toEqual(alerts);
        const monitor = find(project.withComponents[overlay], 'ServiceMonitor', 'api');
        const job = monitor.spec.endpoints[0].relabelings.find((r: any) => r.targetLabel === 'job').replacement;
        expect(scrape).toContain(`job_name: ${job}`);
        expect(JSON.stringify(alerts)).toContain(`up{job=\\"${job}\\"}`);
        expect(monitor.spec.endpoints[0].honorLabels).toBe(true);
      }
    }
  });

  it('uses the Redis files of infra/redis unchanged', async () => {
    const { dir } = projects[1]!;
    for (const copy of KUSTOMIZE_COPIES) {
      expect(await readFile(path.join(dir, copy.target), 'utf8'), copy.target).toBe(await readFile(path.join(repoRoot, 'infra', copy.infra), 'utf8'));
    }
  });
});

describe('Redis in each overlay', () => {
  const secretRefs = (workload: any): Array<{ name: string; key: string }> =>
    podSpecOf(workload).containers.flatMap((c: any) => (c.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.valueFrom.secretKeyRef));

  it('every Secret and ConfigMap a pod uses is in the render, with the key it reads', () => {
    for (const objects of allRenders()) {
      const secretNamed = (name: string) => objects.find((o) => o.kind === 'Secret' && o.metadata.name === name) as any;
      for (const workload of objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))) {
        const refs = secretRefs(workload);
        expect(refs.length, describeObject(workload)).toBeGreaterThan(0);
        for (const ref of refs) expect(Object.keys(secretNamed(ref.name)?.data ?? {}), `${describeObject(workload)}: ${ref.name}`).toContain(ref.key);
        // Whole Secrets as environment: the API's own, and only the API gets it.
        const wholeSecrets = podSpecOf(workload).containers.flatMap((c: any) =>
          (c.envFrom ?? []).filter((e: any) => e.secretRef).map((e: any) => e.secretRef.name),
        );
        expect(
          wholeSecrets.map((name: string) => (name.startsWith('api-secrets-') ? 'api-secrets' : name)),
          describeObject(workload),
        ).toEqual(workload.kind === 'Deployment' ? ['api-secrets'] : []);
        for (const name of wholeSecrets) expect(secretNamed(name), name).toBeDefined();
        for (const volume of podSpecOf(workload).volumes ?? []) {
          if (volume.configMap)
            expect(
              objects.map((o) => o.metadata.name),
              describeObject(workload),
            ).toContain(volume.configMap.name);
        }
      }
    }
  });

  it('standalone: the app reaches the redis Service; Redis keeps an append-only file on its volume', () => {
    for (const { withComponents } of projects) {
      const objects = withComponents.standalone;
      const config = loadConfig(podEnvironment(objects));
      const service = find(objects, 'Service', 'redis');
      expect(config.redis).toMatchObject({ mode: 'standalone' });
      expect(findGenerated(objects, 'ConfigMap', 'api-config').data.REDIS_URL).toBe(`redis://${service.metadata.name}:${service.spec.ports[0].port}`);
      const redis = find(objects, 'StatefulSet', 'redis');
      expect(redis.spec.replicas).toBe(1);
      expectPersistentRedis(objects, redis);
    }
  });

  it('cluster: six nodes announce pod.service names, the app and the Job know exactly those', () => {
    for (const { withComponents } of projects) {
      const objects = withComponents.cluster;
      const config = loadConfig(podEnvironment(objects));
      const statefulSet = find(objects, 'StatefulSet', 'redis-cluster');
      const headless = find(objects, 'Service', statefulSet.spec.serviceName);
      expect(headless.spec.clusterIP).toBe('None');
      expect(headless.spec.publishNotReadyAddresses).toBe(true);
      expect(statefulSet.spec.replicas).toBe(6);
      const names = Array.from({ length: 6 }, (_, i) => `${statefulSet.metadata.name}-${i}.${headless.metadata.name}:6379`);
      expect(findGenerated(objects, 'ConfigMap', 'api-config').data.REDIS_CLUSTER_NODES).toBe(names.join(','));
      expect(config.redis).toMatchObject({ mode: 'cluster' });
      const redis = containerNamed(statefulSet, 'redis');
      expect(redis.command.join(' ')).toContain(`--cluster-announce-hostname "$POD_NAME.${headless.metadata.name}"`);
      expect(redis.env.find((e: any) => e.name === 'POD_NAME').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
      expect(redis.command.join(' ')).toMatch(/redis\.conf --include \/etc\/redis\/redis-cluster\.conf/);
      expect(containerNamed(find(objects, 'Job', 'redis-cluster-create'), 'create-cluster').args).toEqual(names);
      expect(find(objects, 'PodDisruptionBudget', 'redis-cluster').spec.maxUnavailable).toBe(1);
      expectPersistentRedis(objects, statefulSet);
    }
  });

  it('cluster: changing the Redis settings or create-cluster.sh rolls the nodes and leaves the Job as it was', async () => {
    // A Job's pod template is immutable: were it to change, `kubectl apply -k` would fail while the last Job is kept.
    const { dir, withComponents } = projects[1]!;
    const copy = await mkdtemp(path.join(tmpdir(), 'kubernetes-edited-'));
    try {
      await cp(dir, copy, { recursive: true });
      for (const file of ['base/redis.conf', 'base/kubernetes.conf', 'overlays/cluster/redis-cluster.conf', 'overlays/cluster/create-cluster.sh']) {
        await appendFile(path.join(copy, 'deploy/kubernetes', file), '# edited\n');
      }
      const edited = await kustomize(path.join(copy, 'deploy/kubernetes'));
      const before = withComponents.cluster;
      expect(find(edited, 'StatefulSet', 'redis-cluster').spec.template).not.toEqual(find(before, 'StatefulSet', 'redis-cluster').spec.template);
      expect(find(edited, 'Job', 'redis-cluster-create').spec.template).toEqual(find(before, 'Job', 'redis-cluster-create').spec.template);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  function expectPersistentRedis(objects: KubeObject[], statefulSet: any): void {
    const redisConfig = findGenerated(objects, 'ConfigMap', 'redis-config').data;
    // The same files as compose and npm run stack (infra/redis), kubernetes.conf for the volume.
    for (const file of ['redis.conf', 'redis-start.sh', 'read-secret.sh', 'app-user.acl', 'admin-cli.sh']) {
      expect(redisConfig[file], file).toBe(readFileSync(path.join(repoRoot, 'infra', 'redis', file), 'utf8'));
    }
    expect(redisConfig['redis.conf']).toMatch(/^appendonly yes$/m);
    expect(redisConfig['kubernetes.conf']).toMatch(/^dir \/data$/m);
    const container = containerNamed(statefulSet, 'redis');
    const command = container.command.join(' ');
    // Started by redis-start.sh (users written from the Secret), kubernetes.conf after redis.conf.
    expect(command).toMatch(/^sh -c exec sh \/etc\/redis\/redis-start\.sh \/etc\/redis\/redis\.conf /);
    expect(command.indexOf('/etc/redis/kubernetes.conf')).toBeGreaterThan(command.indexOf('/etc/redis/redis.conf'));
    expect(command).not.toMatch(/--requirepass|--masterauth|PASSWORD/);
    const fromSecret = (name: string) => container.env.find((e: any) => e.name === name)?.valueFrom?.secretKeyRef;
    expect(fromSecret('REDIS_ADMIN_PASSWORD')).toEqual({ name: expect.stringMatching(/^redis-auth-/), key: 'REDIS_ADMIN_PASSWORD' });
    expect(fromSecret('REDIS_APP_PASSWORD')).toEqual({ name: expect.stringMatching(/^redis-auth-/), key: 'REDIS_APP_PASSWORD' });
    expect(container.volumeMounts.find((m: any) => m.mountPath === '/run/redis')).toBeDefined();
    expect(container.volumeMounts.find((m: any) => m.mountPath === '/data').name).toBe(statefulSet.spec.volumeClaimTemplates[0].metadata.name);
  }
});

describe('pods are locked down and spread', () => {
  it('non-root, read-only root filesystem, no capabilities, no service links or API token', () => {
    for (const objects of allRenders()) {
      for (const workload of objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind)) as any[]) {
        const pod = podSpecOf(workload);
        expect(pod.securityContext.runAsNonRoot, describeObject(workload)).toBe(true);
        expect(pod.enableServiceLinks, describeObject(workload)).toBe(false);
        expect(pod.automountServiceAccountToken, describeObject(workload)).toBe(false);
        for (const container of pod.containers) {
          expect(container.securityContext, describeObject(workload)).toEqual({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(container.resources.requests, describeObject(workload)).toBeDefined();
          expect(container.resources.limits.memory, describeObject(workload)).toBeDefined();
        }
      }
    }
  });

  it('selectors match the pods they mean', () => {
    for (const objects of projects.flatMap((p) => Object.values(p.withComponents))) {
      const labelsOf = (kind: string, name: string) => find(objects, kind, name).spec.template.metadata.labels as Record<string, string>;
      const matches = (selector: any, labels: Record<string, string>) =>
        Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
        (selector.matchExpressions ?? []).every((e: any) => e.operator === 'In' && e.values.includes(labels[e.key]));
      const api = labelsOf('Deployment', 'api');
      expect(matches({ matchLabels: find(objects, 'Service', 'api').spec.selector }, api)).toBe(true);
      expect(matches(find(objects, 'PodDisruptionBudget', 'api').spec.selector, api)).toBe(true);
      expect(find(objects, 'HorizontalPodAutoscaler', 'api').spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'api' });
      for (const constraint of podSpecOf(find(objects, 'Deployment', 'api')).topologySpreadConstraints)
        expect(matches(constraint.labelSelector, api)).toBe(true);

      const redisPods = objects.filter((o) => o.kind === 'StatefulSet').map((o: any) => o.spec.template.metadata.labels);
      const jobPods = objects.filter((o) => o.kind === 'Job').map((o: any) => o.spec.template.metadata.labels);
      const apiPolicy = find(objects, 'NetworkPolicy', 'api').spec;
      const redisPolicy = find(objects, 'NetworkPolicy', 'redis').spec;
      expect(matches(apiPolicy.podSelector, api)).toBe(true);
      const metricsRule = apiPolicy.ingress.find((r: any) => r.ports.some((p: any) => p.port === 'metrics'));
      expect(metricsRule.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
      expect(metricsRule.ports).toEqual([{ port: 'metrics' }]);
      expect(apiPolicy.ingress.filter((r: any) => !r.from).flatMap((r: any) => r.ports)).toEqual([{ port: 'http' }]);
      for (const labels of redisPods) expect(matches(redisPolicy.podSelector, labels)).toBe(true);
      expect(matches(redisPolicy.podSelector, api)).toBe(false);
      const clientRule = redisPolicy.ingress[0];
      expect(matches(clientRule.from[0].podSelector, api)).toBe(true);
      for (const labels of jobPods) expect(matches(clientRule.from[0].podSelector, labels)).toBe(true);
    }
  });
});

describe('the project name', () => {
  // What the API server accepts: a namespace is an RFC 1123 label; a label value is at most 63
  // characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit.
  const rfc1123Label = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const labelValue = /^(?=.{0,63}$)([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

  it.each(['order_service.v2', `a-${'long-name-'.repeat(7)}end`])('%s, a valid npm name, gives a valid namespace and labels', async (name) => {
    const dir = await renderProjectFiles({ redis: 'cluster', instances: 2, name }, deployAndInfra);
    try {
      await run(await secretsCommand(dir), dir);
      await editRootKustomization(dir, { components: true });
      const objects = await kustomize(path.join(dir, 'deploy/kubernetes'));
      const namespaces = new Set(objects.map((o) => (o.kind === 'Namespace' ? o.metadata.name : o.metadata.namespace)));
      expect(namespaces.size).toBe(1);
      for (const namespace of namespaces) expect(namespace).toMatch(rfc1123Label);
      for (const o of objects) {
        for (const value of Object.values(o.metadata.labels ?? {})) expect(value, describeObject(o)).toMatch(labelValue);
      }
      // The image stays the one docker compose builds.
      expect(containerNamed(find(objects, 'Deployment', 'api'), 'api').image).toBe(`${name}:latest`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('--instances', () => {
  it('is the Deployment replicas, the autoscaler floor and one more than the disruption budget minimum', () => {
    for (const { flavour, asGenerated, withComponents } of projects) {
      for (const objects of [asGenerated, ...Object.values(withComponents)]) {
        expect(find(objects, 'Deployment', 'api').spec.replicas).toBe(flavour.instances);
        expect(find(objects, 'PodDisruptionBudget', 'api').spec.minAvailable).toBe(flavour.instances - 1);
        const hpa = find(objects, 'HorizontalPodAutoscaler', 'api').spec;
        expect(hpa.minReplicas).toBe(flavour.instances);
        expect(hpa.maxReplicas).toBeGreaterThan(flavour.instances);
      }
    }
    expect(projects.map((p) => p.flavour.instances)).toEqual([2, 3, 1, 16]);
  });
});
