/**
 * Handlebars helpers the generator registers on node-plop for rendering the
 * `.hbs` files of `templates/` (plop's own helpers, such as `kebabCase`, come with it).
 */
import { commandsFor, type PackageManager } from './package-manager.js';

/** Handlebars passes an options object as the last argument; drop it. */
function args(values: unknown[]): unknown[] {
  return values.slice(0, -1);
}

export const handlebarsHelpers = {
  /** {{#if (eq redis "cluster")}} */
  eq: (...values: unknown[]) => {
    const [a, b] = args(values);
    return a === b;
  },
  /** {{{json answers}}}: a value as JSON (use triple braces so quotes are not escaped). */
  json: (...values: unknown[]) => JSON.stringify(args(values)[0], null, 2),
  /**
   * {{pmRun pm "dev"}} -> npm run dev / pnpm dev / yarn dev / bun run dev;
   * {{pmRun pm "stack" "start"}} -> npm run stack -- start / pnpm stack start / ...
   */
  pmRun: (...values: unknown[]) => {
    const [pm, script, ...rest] = args(values) as [PackageManager, string, ...unknown[]];
    return commandsFor(pm).run(script, rest.map(String));
  },
  /** {{pmInstall pm}} -> npm install / pnpm install / yarn install / bun install */
  pmInstall: (...values: unknown[]) => commandsFor(args(values)[0] as PackageManager).install,
  /**
   * {{{indent text 2}}}: every non-empty line of a multi-line text indented by
   * that many spaces, e.g. a YAML file embedded under a key. Throws when the
   * text is missing, so a template never renders an empty section by mistake.
   */
  indent: (...values: unknown[]) => {
    const [text, width] = args(values);
    if (typeof text !== 'string' || typeof width !== 'number') throw new Error('indent: expected {{{indent text spaces}}}');
    const pad = ' '.repeat(width);
    return text
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => (line === '' ? '' : pad + line))
      .join('\n');
  },
  /** {{join list ","}} */
  join: (...values: unknown[]) => {
    const [list, separator] = args(values) as [unknown[], unknown];
    return list.join(typeof separator === 'string' ? separator : ', ');
  },
} satisfies Record<string, (...values: unknown[]) => unknown>;

export function registerHandlebarsHelpers(plop: { setHelper(name: string, fn: (...values: unknown[]) => unknown): void }): void {
  for (const [name, fn] of Object.entries(handlebarsHelpers)) plop.setHelper(name, fn);
}
