/**
 * Regenerates examples/ from the current templates. Run it (npm run examples)
 * and commit the result whenever templates/ or infra/ change; a test fails
 * while the committed examples differ from a fresh run.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLineOf, EXAMPLES, generateExample } from './examples.js';

const examplesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples');
await mkdir(examplesDir, { recursive: true });

for (const example of EXAMPLES) {
  // Generated next to the old copy (same filesystem), then swapped in, so deleted template files disappear too.
  const fresh = await generateExample(example, examplesDir);
  const target = path.join(examplesDir, example.dir);
  await rm(target, { recursive: true, force: true });
  await rename(fresh, target);
  await rm(path.dirname(fresh), { recursive: true, force: true });
  process.stdout.write(`examples/${example.dir}: ${commandLineOf(example)}\n`);
}
