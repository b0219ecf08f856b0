import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../scripts/examples.js';
import { readTree } from '../support/run-cli.js';

// The generated project is the user's code: it must not talk about how this
// generator was measured, nor send its reader to files it does not have.
// The committed examples are identical to a fresh run (examples.test.ts).
const examplesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');

/** A path inside the project, as comments and docs mention them: `src/volt/kernel.ts`, `infra/nginx/`. */
const MENTION = /(?<![\w./-])((?:src|test|scripts|infra|docs|public|plop|\.github)\/[\w.\-/]*[\w/])/g;
/**
 * Paths of files a user would add (the README's `npm run gen controller
 * invoices`, the plop test's `line-items`), that a script writes (`npm run
 * docs`) and inside a package (`plop/bin/`).
 */
const EXAMPLE_PATHS = /^(src\/features\/(invoices|teams|line-items)\b|test\/unit\/(invoices|line-items)\.|docs\/openapi\.json$|plop\/bin\/)/;

describe.each(EXAMPLES.map((example) => [example.dir] as const))('examples/%s: what the user owns', (dir) => {
  it('mentions no benchmark and no file the project does not have', async () => {
    const tree = await readTree(path.join(examplesDir, dir));
    const paths = new Set(tree.keys());
    const exists = (mention: string) => {
      const clean = mention.replace(/\/$/, '');
      return paths.has(clean) || [...paths].some((file) => file.startsWith(`${clean}/`));
    };
    const problems: string[] = [];
    for (const [file, content] of tree) {
      if (/benchmark/i.test(content)) problems.push(`${file}: mentions a benchmark`);
      for (const [, mention] of content.matchAll(MENTION)) {
        if (EXAMPLE_PATHS.test(mention!)) continue;
        // Relative to the project root, or to src/ (`scaling/realtime/`) as code comments write them.
        if (!exists(mention!) && !exists(`src/${mention}`)) problems.push(`${file}: mentions ${mention}, which the project does not have`);
      }
    }
    expect(problems).toEqual([]);
  });
});
