import { chmod, copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodePlop, { type CustomActionConfig } from 'node-plop';
import { registerHandlebarsHelpers } from './handlebars-helpers.js';
import { buildPlan, MANIFEST_FILE, type PlanEntry, type PlanSources } from './plan.js';
import { manifestJson, readInfraTexts, templateData, type TemplateAnswers, type TemplateData } from './template-data.js';

const COPY_ACTION = 'copyVerbatim';

/**
 * Everything a project is made of, written under destDir: the files of the
 * templates in `sources` and volt-scaled.json. Creating a project and `upgrade`
 * (which renders an older package's templates and this one's side by side)
 * both go through here; the plan is passed in when the caller already built it.
 */
export async function renderProject(
  sources: PlanSources,
  answers: TemplateAnswers,
  generatorVersion: string,
  destDir: string,
  plan: readonly PlanEntry[] = buildPlan(sources),
): Promise<void> {
  // An older package may lack an infra file a newer template embeds; a template that needs it fails to render.
  const infra = sources.infraDir ? await readInfraTexts(sources.infraDir).catch(unlessMissing) : undefined;
  await renderPlan(plan, templateData(answers, generatorVersion, infra), destDir);
  await writeFile(path.join(destDir, MANIFEST_FILE), manifestJson(answers, generatorVersion));
}

function unlessMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT') return undefined;
  throw error;
}

/**
 * Writes every plan entry under destDir through node-plop: `.hbs` files with
 * plop's own `add` action (Handlebars, with the shared helpers), everything
 * else byte for byte through a custom action, so binary files and the
 * project's own plop templates are never run through Handlebars.
 */
export async function renderPlan(plan: readonly PlanEntry[], data: TemplateData, destDir: string): Promise<void> {
  const plop = await nodePlop(undefined, { destBasePath: destDir, force: false });
  registerHandlebarsHelpers(plop);
  plop.setActionType(COPY_ACTION, async (_answers, config: CustomActionConfig<string>) => {
    const { source, target } = config as CustomActionConfig<string> & { source: string; target: string };
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(source, target);
    await chmod(target, (await stat(source)).mode);
    return target;
  });

  const actions = plan.map((entry) => {
    const target = path.join(destDir, entry.target);
    return entry.kind === 'render'
      ? { type: 'add' as const, path: target, templateFile: entry.source, abortOnFail: true }
      : { type: COPY_ACTION, source: entry.source, target, abortOnFail: true };
  });
  const generator = plop.setGenerator('project', { description: 'the generated project', prompts: [], actions });
  const { changes, failures } = await generator.runActions({ ...data });
  if (failures.length > 0) {
    // Actions run in order and stop at the first failure, so it is the entry after the last success.
    const entry = plan[changes.length];
    const reason = failures[0]?.error ?? 'unknown error';
    throw new Error(`Could not ${entry?.kind ?? 'write'} ${entry?.source ?? 'a template file'}: ${reason}`);
  }
}
