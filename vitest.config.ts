import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import templateConfig from './templates/vitest.config.js';

// The generator's own tests, plus the template's suites (unit, redis, stack) run
// in place: templates/ is a real project that typechecks and tests where it stands.
const templateRoot = fileURLToPath(new URL('./templates', import.meta.url));
const templateSuites = (templateConfig.test?.projects ?? []) as TestProjectInlineConfiguration[];

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'generator', include: ['test/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 600_000 } },
      ...templateSuites.map((suite) => ({ ...suite, extends: undefined, test: { ...suite.test, root: templateRoot } })),
    ],
  },
});
