// `npm run gen controller <name>` (or `npx plop controller <name>`): adds a
// feature (a controller with a store-backed list/get/create, its realtime
// channel and its test), lists it in src/features/index.ts and lets the app's
// Redis user use its keys.
// `npm run gen controller <name> -- --auth`: every action requires a signed-in
// user (`use: [auth()]`), items record who created them, and the channel is
// for signed-in users only.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
// Route prefixes and channels the app already uses.
const RESERVED = new Set(['volt', 'sse', 'health', 'metrics', 'scaling', 'broadcast', 'revalidate', 'index']);
const FEATURES = 'src/features/index.ts';
// A flag rather than a prompt, so `npm run gen controller <name>` never stops to ask.
const withAuth = process.argv.includes('--auth');
// The app's Redis user may touch only the key prefixes listed in its ACL rules
// (infra/redis/app-user.acl, and the Kubernetes manifests' copy): a feature
// adds its own. Skipped where the file is not there.
const ACL_RULES = ['infra/redis/app-user.acl', 'deploy/kubernetes/base/app-user.acl'];

export default function (plop) {
  plop.setGenerator('controller', {
    description: 'a feature: controller (list, get, create), realtime channel and test, listed in src/features/index.ts (--auth: signed-in users only)',
    prompts: [
      {
        type: 'input',
        name: 'name',
        message: 'Controller name (kebab-case, e.g. invoices or line-items):',
        validate(value) {
          const name = String(value ?? '').trim();
          if (!NAME.test(name)) return 'Use lowercase letters, digits and single dashes, starting with a letter (e.g. invoices, line-items).';
          if (RESERVED.has(name)) return `"${name}" is reserved; pick another name.`;
          if (existsSync(join(here, 'src', 'features', name))) return `src/features/${name} already exists; pick another name.`;
          return true;
        },
      },
    ],
    actions: [
      {
        type: 'add',
        path: 'src/features/{{kebabCase name}}/{{kebabCase name}}.controller.ts',
        templateFile: 'plop/controller.ts.hbs',
        abortOnFail: true,
        data: { auth: withAuth },
      },
      {
        type: 'add',
        path: 'src/features/{{kebabCase name}}/{{kebabCase name}}.channels.ts',
        templateFile: 'plop/channels.ts.hbs',
        abortOnFail: true,
        data: { auth: withAuth },
      },
      {
        type: 'add',
        path: 'test/unit/{{kebabCase name}}.controller.test.ts',
        templateFile: 'plop/controller.test.ts.hbs',
        abortOnFail: true,
        data: { auth: withAuth },
      },
      {
        type: 'modify',
        path: FEATURES,
        pattern: /(\/\/ plop:imports)/,
        template:
          "import { {{camelCase name}}Channels } from './{{kebabCase name}}/{{kebabCase name}}.channels.js';\n" +
          "import { {{camelCase name}}Controller } from './{{kebabCase name}}/{{kebabCase name}}.controller.js';\n$1",
      },
      {
        type: 'modify',
        path: FEATURES,
        pattern: /( *)(\/\/ plop:controllers)/,
        template: '$1{{camelCase name}}: {{camelCase name}}Controller,\n$1$2',
      },
      {
        type: 'modify',
        path: FEATURES,
        pattern: /( *)(\/\/ plop:channels)/,
        template: '$1...{{camelCase name}}Channels,\n$1$2',
      },
      ...ACL_RULES.map((path) => ({
        type: 'modify',
        path,
        pattern: /^(resetkeys .*)$/m,
        template: '$1 ~{{kebabCase name}}:*',
        skip: () => (existsSync(join(here, path)) ? undefined : `${path} not found`),
      })),
    ],
  });
}
