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
}

export function templateData(answers: Answers, generatorVersion: string): TemplateData {
  return {
    name: answers.name,
    redis: answers.redis,
    instances: answers.instances,
    pm: answers.pm,
    isCluster: answers.redis === 'cluster',
    generatorVersion,
    instanceList: Array.from({ length: answers.instances }, (_, i) => i + 1),
  };
}

/** Contents of `volt-scaled.json`: no timestamps, so the same answers give the same bytes. */
export function manifestJson(answers: Answers, generatorVersion: string): string {
  const manifest = {
    generator: 'create-volt-scaled',
    version: generatorVersion,
    answers: { redis: answers.redis, instances: answers.instances, pm: answers.pm },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
