/**
 * App instances as separate processes for the cache tests, started by the
 * shared launcher and handed over only once ready: listening comes before
 * Redis is connected, so wait on /health/ready as a load balancer would.
 */
import { startApp, type AppProcess } from '../support/app-process.js';

export type { AppProcess };

export async function startAppProcess(name: string, env: Record<string, string>): Promise<AppProcess> {
  const app = await startApp(name, env);
  const deadline = Date.now() + 30_000;
  while (
    (await fetch(`${app.url}/health/ready`).then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    if (Date.now() > deadline) {
      await app.kill();
      throw new Error(`${name} not ready within 30 s:\n${app.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return app;
}
