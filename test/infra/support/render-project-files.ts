import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RedisMode } from '../../../generator/args.js';
import { packageInfo } from '../../../generator/package-root.js';
import { buildPlan } from '../../../generator/plan.js';
import { renderPlan } from '../../../generator/render.js';
import { readInfraTexts, templateData } from '../../../generator/template-data.js';

export interface Flavour {
  redis: RedisMode;
  instances: number;
  /** The project (package) name; infra-check unless given. */
  name?: string;
}

/**
 * Renders the files of a generated project whose target matches `wanted`
 * (e.g. the compose file and infra/) through the generator's own plan and
 * renderer, with the answers of a flavour. Returns the project directory.
 */
export async function renderProjectFiles(flavour: Flavour, wanted: (target: string) => boolean): Promise<string> {
  const pkg = packageInfo();
  const plan = buildPlan({ templatesDir: pkg.templatesDir, infraDir: pkg.infraDir }).filter((entry) => wanted(entry.target));
  if (plan.length === 0) throw new Error('no template file matched');
  const dir = await mkdtemp(path.join(tmpdir(), `infra-${flavour.redis}-${flavour.instances}-`));
  const answers = {
    targetDir: dir,
    name: flavour.name ?? 'infra-check',
    redis: flavour.redis,
    instances: flavour.instances,
    pm: 'npm' as const,
    install: false,
    git: false,
  };
  await renderPlan(plan, templateData(answers, pkg.version, await readInfraTexts(pkg.infraDir)), dir);
  return dir;
}
