import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import templateConfig from './templates/vitest.config.js';

// The generator's own tests, plus the template's suites (unit, redis, stack) run
// in place: templates/ is a real project that typechecks and tests where it stands.
const templateRoot = fileURLToPath(new URL('./templates', import.meta.url));
const templateSuites = (templateConfig.test?.projects ?? []) as TestProjectInlineConfiguration[];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'generator',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/docker/**'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
      // Generated projects under `docker compose` on a private Docker engine
      // (root, docker.io, docker-compose, mmdebstrap): one engine for the run,
      // one file at a time, after the parallel suites.
      {
        test: {
          name: 'docker',
          include: ['test/docker/**/*.test.ts'],
          globalSetup: ['test/docker/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
      ...templateSuites.map((suite) => ({ ...suite, extends: undefined, test: { ...suite.test, root: templateRoot } })),
    ],
  },
});
