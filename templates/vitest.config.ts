import { defineConfig } from 'vitest/config';

// Three suites: `unit` needs nothing but Node; `redis` starts real redis-server
// processes (standalone and a 6-node cluster); `stack` also needs nginx.
export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'redis', include: ['test/redis/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, fileParallelism: false },
      },
      {
        extends: true,
        test: { name: 'stack', include: ['test/stack/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000, fileParallelism: false },
      },
    ],
  },
});
