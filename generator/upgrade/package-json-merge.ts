import { isDeepStrictEqual } from 'node:util';
import { CliError } from '../errors.js';
import { toCrlf, usesCrlf } from './text-merge.js';

type Json = null | boolean | number | string | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json;
}

export interface PackageJsonMerge {
  text: string;
  /** Values where the user's choice was kept over a different template change, for the summary. */
  notes: string[];
}

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

/**
 * Merges package.json as JSON, key by key: a value the user never changed
 * takes the template's new value (a dependency moves to the new range, a
 * script to the new command), anything the user added, removed or changed is
 * kept, and where both changed the same value the user's stays and a note
 * names the template's. The result is always valid JSON: no conflict markers.
 */
export function mergePackageJson(ours: string, base: string, theirs: string): PackageJsonMerge {
  const oursJson = parseObject(ours, 'Your package.json', 'Fix package.json, then run the upgrade again.');
  const baseJson = parseObject(base, "The old template's package.json", undefined);
  const theirsJson = parseObject(theirs, "The new template's package.json", undefined);
  const notes: string[] = [];
  const merged = mergeObjects(oursJson, baseJson, theirsJson, [], notes);

  let text = JSON.stringify(merged, null, indentOf(ours));
  if (ours.endsWith('\n')) text += '\n';
  if (usesCrlf(ours)) text = toCrlf(text);
  return { text, notes };
}

/** Whether a new package.json adds, changes or removes a dependency range, so the lockfile needs an install. */
export function dependenciesDiffer(before: string, after: string): boolean {
  const parse = (text: string) => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const [a, b] = [parse(before), parse(after)];
  return !a || !b || DEPENDENCY_FIELDS.some((field) => !isDeepStrictEqual(a[field], b[field]));
}

function mergeValues(ours: Json | undefined, base: Json | undefined, theirs: Json | undefined, at: string[], notes: string[]): Json | undefined {
  if (isDeepStrictEqual(ours, base)) return theirs;
  if (isDeepStrictEqual(theirs, base) || isDeepStrictEqual(ours, theirs)) return ours;
  if (isObject(ours) && isObject(theirs)) return mergeObjects(ours, isObject(base) ? base : {}, theirs, at, notes);
  notes.push(keptNote(at, ours, theirs));
  return ours;
}

/** Keys stay in the user's order; a key only the template has goes after the key it follows in the template. */
function mergeObjects(ours: JsonObject, base: JsonObject, theirs: JsonObject, at: string[], notes: string[]): JsonObject {
  const entries: Array<[string, Json]> = [];
  for (const key of Object.keys(ours)) {
    const value = mergeValues(ours[key], get(base, key), get(theirs, key), [...at, key], notes);
    if (value !== undefined) entries.push([key, value]);
  }
  let previous: string | undefined;
  for (const key of Object.keys(theirs)) {
    if (!Object.hasOwn(ours, key)) {
      const value = mergeValues(undefined, get(base, key), theirs[key], [...at, key], notes);
      if (value !== undefined) {
        const after = previous === undefined ? -1 : entries.findIndex(([name]) => name === previous);
        entries.splice(after + 1, 0, [key, value]);
      }
    }
    if (entries.some(([name]) => name === key)) previous = key;
  }
  // npm keeps dependency lists sorted; keep them so when the user's list was.
  if (at.length === 1 && DEPENDENCY_FIELDS.includes(at[0]!) && isSorted(Object.keys(ours))) {
    entries.sort(([a], [b]) => a.localeCompare(b, 'en'));
  }
  // fromEntries defines own properties, so even a "__proto__" key stays plain data.
  return Object.fromEntries(entries);
}

function keptNote(at: string[], ours: Json | undefined, theirs: Json | undefined): string {
  const name = at.join('.');
  if (ours === undefined) return `kept your removal of ${name} (the template has ${show(theirs)})`;
  if (theirs === undefined) return `kept your ${name} ${show(ours)} (the template removed it)`;
  return `kept your ${name} ${show(ours)} (the template has ${show(theirs)})`;
}

function show(value: Json | undefined): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function parseObject(text: string, what: string, hint: string | undefined): JsonObject {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (error) {
    throw new CliError(`${what} is not valid JSON (${(error as Error).message}); nothing was written.`, hint);
  }
  if (!isObject(json)) throw new CliError(`${what} is not a JSON object; nothing was written.`, hint);
  return json;
}

function get(object: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSorted(keys: string[]): boolean {
  return keys.every((key, i) => i === 0 || keys[i - 1]!.localeCompare(key, 'en') <= 0);
}

/** The indentation the user's file uses (two spaces when it has none). */
function indentOf(text: string): string | number {
  return /^([ \t]+)"/m.exec(text)?.[1] ?? 2;
}
