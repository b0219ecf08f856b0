/**
 * Once per test run, for every file of the `docker` project: a private Docker
 * engine, stopped and removed at the end whether the tests passed or not.
 * Test files get its address with `inject('dockerEngine')`; what they build in
 * it (stand-in base images, images of generated projects) stays for the next
 * file, which is why the files run one at a time.
 */
import type { TestProject } from 'vitest/node';
import { type EngineInfo, startEngine } from './support/engine.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dockerEngine: EngineInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const engine = await startEngine();
  project.provide('dockerEngine', { dockerHost: engine.dockerHost, dir: engine.dir });
  return async () => {
    const started = Date.now();
    await engine.stop();
    console.log(`[docker] engine stopped and removed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };
}
