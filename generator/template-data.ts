import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Answers } from './answers.js';

/** The values every `.hbs` file can use. */
export interface TemplateData {
  name: string;
  redis: Answers['redis'];
  instances: number;
  pm: Answers['pm'];
  isCluster: boolean;
  generatorVersion: string;
  /** [1, 2, ..., instances], for {{#each instanceList}} blocks (app1, app2, ...). */
  instanceList: number[];
  /**
   * Kubernetes: the project's namespace and part-of label, the name made an
   * RFC 1123 label (npm allows '.', '_' and 214 characters; a namespace does not).
   */
  kubernetesName: string;
  /** Kubernetes: the autoscaler's ceiling, and the pods a PodDisruptionBudget keeps (one may always go). */
  hpaMaxReplicas: number;
  pdbMinAvailable: number;
  /** infra/prometheus/alerts.yml, which the Prometheus Operator's PrometheusRule carries as its spec. */
  alertRules?: string;
}

/** The answers a project's files depend on (not where it lives or what ran after it was written). */
export type TemplateAnswers = Pick<Answers, 'name' | 'redis' | 'instances' | 'pm'>;

/** Texts of infra/ files that other generated files embed. */
export interface InfraTexts {
  alertRules: string;
}

export async function readInfraTexts(infraDir: string): Promise<InfraTexts> {
  return { alertRules: await readFile(path.join(infraDir, 'prometheus', 'alerts.yml'), 'utf8') };
}

export function templateData(answers: TemplateAnswers, generatorVersion: string, infra?: InfraTexts): TemplateData {
  return {
    name: answers.name,
    redis: answers.redis,
    instances: answers.instances,
    pm: answers.pm,
    isCluster: answers.redis === 'cluster',
    generatorVersion,
    instanceList: Array.from({ length: answers.instances }, (_, i) => i + 1),
    kubernetesName: kubernetesName(answers.name),
    hpaMaxReplicas: answers.instances * 3,
    pdbMinAvailable: answers.instances - 1,
    ...(infra && { alertRules: infra.alertRules }),
  };
}

/** Lowercase letters, digits and inner '-', at most 63 characters: every other run of characters becomes one '-'. */
function kubernetesName(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return label === '' ? 'app' : label;
}

/** Contents of `volt-scaled.json`: no timestamps, so the same answers give the same bytes. */
export function manifestJson(answers: Omit<TemplateAnswers, 'name'>, generatorVersion: string): string {
  const manifest = {
    generator: 'create-volt-scaled',
    version: generatorVersion,
    answers: { redis: answers.redis, instances: answers.instances, pm: answers.pm },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
