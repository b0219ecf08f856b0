/**
 * What the kubelet gives a container of a rendered manifest, for tests that
 * run it outside Kubernetes: its environment (ConfigMaps, Secrets, the pod
 * name) and the objects it names.
 */
import type { KubeObject } from './kubernetes-validation.js';

/** The object of that kind whose name is `name` or starts with `name-` (kustomize adds a content hash to ConfigMaps and Secrets). */
export const named = (objects: KubeObject[], kind: string, name: string): any =>
  objects.find((o) => o.kind === kind && (o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)));

/** A container's environment as the kubelet builds it: envFrom ConfigMaps and Secrets, then env (Secrets, the pod name, values). */
export function containerEnv(objects: KubeObject[], container: any, podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, named(objects, 'ConfigMap', source.configMapRef.name).data);
    else {
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === source.secretRef.name) as any;
      for (const [key, value] of Object.entries(secret.data ?? {})) env[key] = Buffer.from(value as string, 'base64').toString('utf8');
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from?.fieldRef) env[variable.name] = podName;
    else if (from?.secretKeyRef) {
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === from.secretKeyRef.name) as any;
      env[variable.name] = Buffer.from(secret.data[from.secretKeyRef.key], 'base64').toString('utf8');
    } else env[variable.name] = variable.value;
  }
  return env;
}
