import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './kubernetes-validation.js';

/** kubectl's built-in kustomize (kubectl 1.32 ships kustomize 5.5); KUBECTL names another binary. */
const kubectl = process.env.KUBECTL ?? 'kubectl';

/** `kubectl kustomize DIR`: the objects `kubectl apply -k DIR` would send, rendered offline. */
export async function kustomize(dir: string): Promise<KubeObject[]> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(kubectl, ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${kubectl} is not installed: kustomize renders come from \`kubectl kustomize\` (.ci/run installs kubectl when it is missing).`));
      } else if (error) {
        reject(new Error(`kubectl kustomize ${dir} failed: ${stderr || error.message}`));
      } else {
        resolve(stdout);
      }
    });
  });
  return parseAllDocuments(output).map((document) => {
    if (document.errors.length > 0) throw new Error(`kustomize printed invalid YAML: ${document.errors[0]!.message}`);
    return document.toJS() as KubeObject;
  });
}

/** The commands in base/*.env.example that fill the Secrets' files, as a user runs them from the project root (joined with &&). */
export async function secretsCommand(projectDir: string): Promise<string> {
  const commands: string[] = [];
  for (const name of ['secrets', 'api-secrets']) {
    const example = await readFile(path.join(projectDir, `deploy/kubernetes/base/${name}.env.example`), 'utf8');
    const command = new RegExp(`^#\\s+(sed .*> deploy/kubernetes/base/${name}\\.env)$`, 'm').exec(example)?.[1];
    if (!command) throw new Error(`no command that fills ${name}.env in ${name}.env.example`);
    commands.push(command);
  }
  return commands.join(' && ');
}

export async function run(command: string, cwd: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile('sh', ['-c', command], { cwd }, (error, _stdout, stderr) => (error ? reject(new Error(`${command}: ${stderr}`)) : resolve()));
  });
}

/**
 * Points the project's root kustomization at an overlay and turns on the
 * optional components, the two edits the README describes.
 */
export async function editRootKustomization(projectDir: string, edit: { overlay?: 'standalone' | 'cluster'; components?: boolean }): Promise<void> {
  const file = path.join(projectDir, 'deploy/kubernetes/kustomization.yaml');
  let text = await readFile(file, 'utf8');
  if (edit.overlay) text = text.replace(/^ {2}- overlays\/\w+$/m, `  - overlays/${edit.overlay}`);
  if (edit.components) text = text.replace(/^# (components:| {2}- components\/.*)$/gm, '$1');
  await writeFile(file, text);
}
