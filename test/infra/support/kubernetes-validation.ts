import path from 'node:path';
import ts from 'typescript';

/** One object of a kustomize render (a parsed YAML document). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export const describeObject = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;

/**
 * The kubernetes-models module of an object's kind: the Kubernetes 1.34
 * OpenAPI schemas, and the Prometheus Operator's CRDs.
 */
function modelModule(o: KubeObject): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`;
  return group === '' ? `kubernetes-models/${version}/${o.kind}` : `kubernetes-models/${group}/${version}/${o.kind}`;
}

/**
 * Schema errors of each object, as `Kind/name: message` lines; [] when every
 * object is valid. The OpenAPI schemas check types, required fields, enums and
 * formats, but do not forbid unknown fields, which fieldErrors does.
 */
export async function schemaErrors(objects: readonly KubeObject[]): Promise<string[]> {
  const errors: string[] = [];
  for (const o of objects) {
    let Model: new (data: unknown) => { validate(): void };
    try {
      Model = ((await import(modelModule(o))) as Record<string, typeof Model>)[o.kind]!;
    } catch {
      errors.push(`${describeObject(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(asTheApiServerReadsIt(o)).validate();
    } catch (error) {
      errors.push(`${describeObject(o)}: ${(error as Error).message}`);
    }
  }
  return errors;
}

/**
 * kustomize wraps long base64 values of generated Secrets over several lines;
 * the API server's base64 decoder (Go's) skips line breaks, the schema's
 * `byte` format does not.
 */
function asTheApiServerReadsIt(o: KubeObject): KubeObject {
  if (o.kind !== 'Secret' || !o.data) return o;
  const data = Object.fromEntries(Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, v.replace(/[\r\n]/g, '')]));
  return { ...o, data };
}

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

/**
 * Unknown fields (a misspelt `readinesProbe`, a field at the wrong level), as
 * `Kind/name: message` lines. kubernetes-models declares every field of every
 * kind in TypeScript; each object is type-checked as an object literal of its
 * kind's interface, and TypeScript rejects properties the interface does not
 * have at any depth. This is what `kubectl apply`'s strict field validation
 * rejects on a real cluster.
 */
export function fieldErrors(objects: readonly KubeObject[]): string[] {
  // A virtual module next to the tests, so imports resolve from this repository's node_modules.
  const file = path.join(repoRoot, 'test', 'infra', '__kubernetes-objects__.ts');
  const lines: string[] = [];
  const owners: Array<{ firstLine: number; object: KubeObject }> = [];
  objects.forEach((o, i) => {
    lines.push(`import type { I${o.kind} as T${i} } from '${modelModule(o)}';`);
  });
  objects.forEach((o, i) => {
    owners.push({ firstLine: lines.length, object: o });
    lines.push(...`export const o${i}: T${i} = ${JSON.stringify(o, null, 2)};`.split('\n'));
  });
  const text = lines.join('\n');

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? text : readFile(name));
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, text, language) : getSourceFile(name, language, ...rest));

  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file?.fileName !== file || d.start === undefined) return message;
    const line = d.file.getLineAndCharacterOfPosition(d.start).line;
    const owner = owners.findLast((o) => o.firstLine <= line);
    return `${owner ? describeObject(owner.object) : 'import'}: ${lines[line]?.trim()}: ${message}`;
  });
}
