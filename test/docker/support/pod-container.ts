/**
 * A container of a rendered Kubernetes manifest, run on the test engine the
 * way the kubelet would run it: its image, command and args, the environment
 * its ConfigMaps and Secrets give, its user and security context (read-only
 * root filesystem, no capabilities, no privilege escalation), ConfigMap
 * volumes as read-only files, and emptyDir or claimed volumes as fresh
 * in-memory filesystems owned by the pod's fsGroup.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { containerEnv, named } from '../../infra/support/kubernetes-pod.js';
import type { KubeObject } from '../../infra/support/kubernetes-validation.js';
import { dockerOk, type EngineInfo } from './engine.js';

export interface PodContainerOptions {
  objects: KubeObject[];
  /** The pod template's spec (a Deployment's or StatefulSet's spec.template.spec). */
  podSpec: any;
  /** Volume claim templates of a StatefulSet: their volumes start empty, as a new claim does. */
  claimTemplates?: any[];
  /** Also the container's name and hostname; fieldRef metadata.name reads it. */
  podName: string;
  network: string;
  /** Names other containers reach this one by (a Service's name). */
  aliases?: string[];
  /** containerPort name -> host port on 127.0.0.1. */
  publish?: Record<string, number>;
  /** Where ConfigMap volumes are written on the host. */
  workDir: string;
}

/** Starts the pod's first container detached; returns its name. */
export async function runPodContainer(engine: EngineInfo, options: PodContainerOptions): Promise<string> {
  const { podSpec, podName } = options;
  const container = podSpec.containers[0];
  const podSecurity = podSpec.securityContext ?? {};
  const security = container.securityContext ?? {};
  const args = ['run', '--detach', '--name', podName, '--hostname', podName, '--network', options.network];
  for (const alias of options.aliases ?? []) args.push('--network-alias', alias);

  const user = security.runAsUser ?? podSecurity.runAsUser;
  const group = security.runAsGroup ?? podSecurity.runAsGroup;
  if (user !== undefined) args.push('--user', group === undefined ? String(user) : `${user}:${group}`);
  if (podSecurity.fsGroup !== undefined) args.push('--group-add', String(podSecurity.fsGroup));
  if (security.readOnlyRootFilesystem) args.push('--read-only');
  if (security.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  for (const capability of security.capabilities?.drop ?? []) args.push('--cap-drop', capability);

  const envFile = path.join(options.workDir, `${podName}.env`);
  const env = containerEnv(options.objects, container, podName);
  for (const [name, value] of Object.entries(env)) {
    if (value.includes('\n')) throw new Error(`${name} spans lines: docker's --env-file cannot carry it`);
  }
  await writeFile(
    envFile,
    Object.entries(env)
      .map(([name, value]) => `${name}=${value}\n`)
      .join(''),
    { mode: 0o600 },
  );
  args.push('--env-file', envFile);

  for (const mount of container.volumeMounts ?? []) {
    const volume = podSpec.volumes?.find((v: any) => v.name === mount.name);
    const claim = options.claimTemplates?.find((c: any) => c.metadata.name === mount.name);
    if (volume?.configMap) {
      const dir = path.join(options.workDir, podName, mount.name);
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o755);
      for (const [file, content] of Object.entries(named(options.objects, 'ConfigMap', volume.configMap.name).data as Record<string, string>)) {
        await writeFile(path.join(dir, file), content, { mode: 0o644 });
      }
      args.push('--volume', `${dir}:${mount.mountPath}:ro`);
    } else if (volume?.emptyDir || claim) {
      // Writable by the pod's user, as fsGroup makes a volume in Kubernetes.
      // Owned by that user rather than only by the group: docker resets a
      // mount that is also the image's WORKDIR to mode 755.
      const owner = user === undefined ? 'mode=1777' : `mode=2770,uid=${user},gid=${podSecurity.fsGroup ?? group ?? user}`;
      args.push('--tmpfs', `${mount.mountPath}:rw,${owner}`);
    } else {
      throw new Error(`volume ${mount.name} of ${podName}: only configMap, emptyDir and claim templates are supported here`);
    }
  }

  for (const [portName, hostPort] of Object.entries(options.publish ?? {})) {
    const port = container.ports?.find((p: any) => p.name === portName);
    if (!port) throw new Error(`${podName} has no port named ${portName}`);
    args.push('--publish', `127.0.0.1:${hostPort}:${port.containerPort}`);
  }

  const [entrypoint, ...commandArgs] = container.command ?? [];
  if (entrypoint !== undefined) args.push('--entrypoint', entrypoint);
  args.push(container.image, ...commandArgs, ...(container.args ?? []));
  await dockerOk(engine, args, { timeoutMs: 60_000 });
  return podName;
}
