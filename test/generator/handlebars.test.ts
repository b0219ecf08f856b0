import nodePlop from 'node-plop';
import { describe, expect, it } from 'vitest';
import { registerHandlebarsHelpers } from '../../generator/handlebars-helpers.js';
import { manifestJson, templateData } from '../../generator/template-data.js';

const answers = { targetDir: '/x/shop-api', name: 'shop-api', redis: 'cluster', instances: 3, pm: 'pnpm', install: false, git: false } as const;

// The same registration the generator does, through plop's own renderer.
const plop = await nodePlop();
registerHandlebarsHelpers(plop);
const render = (template: string, data: object): string => plop.renderString(template, data);

describe('template data and helpers', () => {
  it('exposes the answers, the cluster flag and one entry per instance', () => {
    expect(templateData(answers, '1.2.3')).toEqual({
      name: 'shop-api',
      redis: 'cluster',
      instances: 3,
      pm: 'pnpm',
      isCluster: true,
      generatorVersion: '1.2.3',
      instanceList: [1, 2, 3],
      kubernetesName: 'shop-api',
      hpaMaxReplicas: 9,
      pdbMinAvailable: 2,
    });
    expect(templateData({ ...answers, instances: 1 }, '1.2.3')).toMatchObject({ hpaMaxReplicas: 3, pdbMinAvailable: 0 });
    expect(templateData(answers, '1.2.3', { alertRules: 'groups: []\n' }).alertRules).toBe('groups: []\n');
    // npm names Kubernetes refuses as a namespace: '.', '_', more than 63 characters.
    expect(templateData({ ...answers, name: 'order_service.v2' }, '1.2.3').kubernetesName).toBe('order-service-v2');
    expect(templateData({ ...answers, name: `${'a'.repeat(62)}_b` }, '1.2.3').kubernetesName).toBe('a'.repeat(62));
  });

  it('renders the helpers the templates use', () => {
    const data = templateData(answers, '1.2.3');
    expect(render('{{#each instanceList}}app{{this}} {{/each}}', data)).toBe('app1 app2 app3 ');
    expect(render('{{#if (eq redis "cluster")}}C{{else}}S{{/if}}', data)).toBe('C');
    expect(render('{{pmRun pm "dev"}} / {{pmInstall pm}}', data)).toBe('pnpm dev / pnpm install');
    expect(render('{{pmRun "npm" "stack"}}', data)).toBe('npm run stack');
    expect(render('{{pmRun "npm" "stack" "start"}}', data)).toBe('npm run stack -- start');
    expect(render('{{pmRun pm "stack" "start"}}', data)).toBe('pnpm stack start');
    expect(render('{{pmRun "bun" "stack" "start"}}', data)).toBe('bun run stack start');
    expect(render('{{{json instanceList}}}', data)).toBe('[\n  1,\n  2,\n  3\n]');
    expect(render('{{join instanceList ","}}', data)).toBe('1,2,3');
    expect(render('spec:\n{{{indent rules 2}}}\n', { rules: 'groups:\n  - name: a\n\n    x: "{{ $labels.instance }}"\n' })).toBe(
      'spec:\n  groups:\n    - name: a\n\n      x: "{{ $labels.instance }}"\n',
    );
    expect(() => render('{{{indent missing 2}}}', data)).toThrow(/indent: expected/);
  });

  it('writes a manifest without timestamps, so equal answers give equal bytes', () => {
    const manifest = manifestJson(answers, '1.2.3');
    expect(JSON.parse(manifest)).toEqual({ generator: 'create-volt-scaled', version: '1.2.3', answers: { redis: 'cluster', instances: 3, pm: 'pnpm' } });
    expect(manifestJson(answers, '1.2.3')).toBe(manifest);
  });
});
