/**
 * npm run demo: builds the generator, generates ./demo-app (replacing an
 * earlier one) with a real install, starts it and prints its URL. Runs until
 * Ctrl+C. PORT picks the port (default 3000).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const appDir = path.join(root, 'demo-app');
const port = process.env.PORT ?? '3000';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function runToEnd(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with code ${code}`))));
  });
}

async function waitForServer(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return false;
}

await runToEnd(process.execPath, [path.join(root, 'dist', 'generator', 'cli.js'), 'demo-app', '--yes', '--force', '--no-git', '--pm', 'npm'], root);

const server = spawn(npm, ['run', 'dev'], { cwd: appDir, stdio: 'inherit', env: { ...process.env, PORT: port } });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => process.exit(code ?? 0));

const url = `http://localhost:${port}`;
if (await waitForServer(`${url}/health/live`, 60_000)) {
  process.stdout.write(`\nDemo app running at ${url}  (API: ${url}/api/v1/ping)  Press Ctrl+C to stop.\n\n`);
} else {
  process.stderr.write(`\nThe demo app did not answer on ${url} within 60 s; see its output above.\n`);
}
