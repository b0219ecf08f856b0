/**
 * The Kubernetes manifests really configure the app: a generated project's
 * image, run with exactly the environment, user and filesystem its rendered
 * Deployment gives, next to Redis run as its rendered StatefulSet says (same
 * command, Secret, ConfigMap files and security context), is ready.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { named } from '../infra/support/kubernetes-pod.js';
import type { KubeObject } from '../infra/support/kubernetes-validation.js';
import { kustomize, run, secretsCommand } from '../infra/support/kustomize.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir, removeDir } from '../support/run-cli.js';
import { docker, dockerOk } from './support/engine.js';
import { generateProject, packedGenerator } from './support/generated-project.js';
import { runPodContainer } from './support/pod-container.js';
import { baseImagesOfTemplates, ensureStandIns } from './support/stand-ins.js';

const engine = inject('dockerEngine');
const NETWORK = 'cvs-kubernetes';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let work: string;
let objects: KubeObject[];
const containers: string[] = [];

beforeAll(async () => {
  work = await makeTempDir('cvs-docker-kubernetes-');
  const [bin] = await Promise.all([
    packedGenerator(path.join(engine.dir, 'generator')),
    ensureStandIns(engine, { images: baseImagesOfTemplates({ profiles: false }) }),
  ]);
  const { dir } = await generateProject({
    generator: bin,
    parentDir: work,
    name: 'my-app',
    flags: ['--yes', '--redis', 'standalone', '--instances', '2', '--no-git'],
  });
  // As the README says: fill the Secret's file, render the default (standalone) overlay, build the image it names.
  await run(await secretsCommand(dir), dir);
  objects = await kustomize(path.join(dir, 'deploy/kubernetes'));
  const image = named(objects, 'Deployment', 'api').spec.template.spec.containers[0].image;
  await dockerOk(engine, ['build', '--quiet', '--tag', image, dir], { timeoutMs: 600_000 });
  await docker(engine, ['network', 'rm', NETWORK]);
  await dockerOk(engine, ['network', 'create', NETWORK]);
});

afterAll(async () => {
  for (const name of containers) await docker(engine, ['rm', '--force', '--volumes', name]);
  await docker(engine, ['network', 'rm', NETWORK]);
  if (work) await removeDir(work);
});

async function logsOf(name: string): Promise<string> {
  const logs = await docker(engine, ['logs', '--tail', '40', name]);
  return `${name}:\n${logs.all}`;
}

describe('the standalone overlay on the Docker engine', () => {
  it('the app image, with the Deployment environment and security context, is ready on the StatefulSet Redis', async () => {
    const redisSet = named(objects, 'StatefulSet', 'redis');
    const redisService = named(objects, 'Service', redisSet.spec.serviceName);
    containers.push(
      await runPodContainer(engine, {
        objects,
        podSpec: redisSet.spec.template.spec,
        claimTemplates: redisSet.spec.volumeClaimTemplates,
        podName: `${redisSet.metadata.name}-0`,
        network: NETWORK,
        aliases: [redisService.metadata.name],
        workDir: work,
      }),
    );

    const deployment = named(objects, 'Deployment', 'api');
    const podSpec = deployment.spec.template.spec;
    const probe = podSpec.containers[0].readinessProbe.httpGet;
    const podName = 'api-5d8f7c9b6-x7k2p';
    const hostPort = await freePort();
    containers.push(await runPodContainer(engine, { objects, podSpec, podName, network: NETWORK, publish: { [probe.port]: hostPort }, workDir: work }));

    let last = 'no answer';
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`http://127.0.0.1:${hostPort}${probe.path}`, { signal: AbortSignal.timeout(2_000) });
        last = `${response.status} ${await response.text()}`;
        if (response.status === 200) {
          // INSTANCE_ID comes from the pod's name (fieldRef), the rest from the ConfigMap and Secret.
          expect(response.headers.get('x-instance-id')).toBe(podName);
          return;
        }
      } catch (error) {
        last = String(error);
      }
      await sleep(500);
    }
    throw new Error(`${probe.path} never answered 200 (last: ${last})\n${(await Promise.all(containers.map(logsOf))).join('\n')}`);
  });
});
