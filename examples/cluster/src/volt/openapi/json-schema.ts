import type { StandardSchemaV1 } from '../standard-schema.js';
import type { JsonSchema } from './types.js';

/**
 * Standard JSON Schema (https://standardschema.dev/json-schema): zod 4,
 * arktype and valibot (through its adapter) describe their schemas as JSON
 * Schema behind `~standard.jsonSchema`, so the document is generated without
 * depending on any one of them. Copied by shape, as the spec asks.
 */
export interface StandardJSONSchemaV1 {
  readonly '~standard': {
    readonly vendor: string;
    readonly jsonSchema: {
      readonly input: (options: StandardJSONSchemaV1.Options) => Record<string, unknown>;
      readonly output: (options: StandardJSONSchemaV1.Options) => Record<string, unknown>;
    };
  };
}

// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace StandardJSONSchemaV1 {
  export interface Options {
    readonly target: 'draft-2020-12' | 'draft-07' | 'openapi-3.0' | (string & {});
    readonly libraryOptions?: Record<string, unknown> | undefined;
  }
}

/** Request schemas are documented as what clients send, responses as what the handler returns. */
export type SchemaSide = 'input' | 'output';

export const COMPONENT_REF = '#/components/schemas/';
const DEFS_REF = '#/$defs/';

/**
 * What each vendor said about a schema, shared by every router built in the
 * process (tests build many): never modified, the components are copies.
 */
const vendorJsonCache = new WeakMap<StandardSchemaV1, Partial<Record<SchemaSide, JsonSchema>>>();

function hasJsonSchema(schema: StandardSchemaV1): schema is StandardSchemaV1 & StandardJSONSchemaV1 {
  const jsonSchema = (schema['~standard'] as { jsonSchema?: StandardJSONSchemaV1['~standard']['jsonSchema'] }).jsonSchema;
  return typeof jsonSchema?.input === 'function' && typeof jsonSchema.output === 'function';
}

const componentRef = (name: string): JsonSchema => ({ $ref: `${COMPONENT_REF}${name}` });

/**
 * The document's `components.schemas`, filled as schemas are converted. A
 * schema's own definitions (`$defs`, e.g. zod's `.meta({ id: 'Note' })`) become
 * components under their names, so a model used by several actions is
 * documented once; refs inside a converted schema point at the components.
 */
export class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};
  readonly warnings: string[] = [];
  /** Component name -> the vendor's JSON of it, to tell a reuse from a name clash. */
  private readonly fingerprints = new Map<string, string>();
  private readonly converted = new Map<StandardSchemaV1, Partial<Record<SchemaSide, JsonSchema>>>();

  /**
   * The JSON Schema of `schema` to use inline. `name` is the component it
   * becomes if it must be one (a schema that refers to itself).
   */
  inline(schema: StandardSchemaV1, side: SchemaSide, name: string, where: string): JsonSchema {
    const cached = this.converted.get(schema)?.[side];
    if (cached) return cached;
    const result = this.convert(schema, side, name, where, false);
    this.remember(schema, side, result);
    return result;
  }

  /** `{ $ref }` to the component documenting `schema` (named by the schema itself when it has an id). */
  component(schema: StandardSchemaV1, side: SchemaSide, name: string, where: string): JsonSchema {
    const cached = this.converted.get(schema)?.[side];
    if (cached && typeof cached.$ref === 'string') return cached;
    const result = this.convert(schema, side, name, where, true);
    this.remember(schema, side, result);
    return result;
  }

  /** Puts a schema the kernel defines (the error envelopes) into the components under `name`. */
  define(name: string, schema: JsonSchema): JsonSchema {
    const claimed = this.claim(name, JSON.stringify(schema), 'output');
    if (claimed.fresh) this.schemas[claimed.name] = schema;
    return componentRef(claimed.name);
  }

  private remember(schema: StandardSchemaV1, side: SchemaSide, result: JsonSchema): void {
    let sides = this.converted.get(schema);
    if (!sides) this.converted.set(schema, (sides = {}));
    sides[side] = result;
  }

  private convert(schema: StandardSchemaV1, side: SchemaSide, name: string, where: string, asComponent: boolean): JsonSchema {
    const raw = this.vendorJson(schema, side, where);
    const { $defs, $schema: _dialect, ...root } = raw as JsonSchema & { $defs?: Record<string, JsonSchema> };
    // Every name first, so that refs between definitions can be rewritten in any order.
    const renamed = new Map<string, string>();
    const fresh: [string, JsonSchema][] = [];
    for (const [defName, definition] of Object.entries($defs ?? {})) {
      const claimed = this.claim(defName, JSON.stringify(definition), side);
      renamed.set(defName, claimed.name);
      if (claimed.fresh) fresh.push([claimed.name, definition]);
    }
    // A schema that refers to itself (`#`) must be a component to be referred to.
    const needsComponent = (asComponent || JSON.stringify(root).includes('"$ref":"#"')) && !isBareRef(root);
    let self: string | undefined;
    if (needsComponent) {
      const claimed = this.claim(name, JSON.stringify(raw), side);
      self = claimed.name;
      if (claimed.fresh) fresh.push([self, root]);
    }
    for (const [component, body] of fresh) this.schemas[component] = rewriteRefs(body, renamed, self) as JsonSchema;
    return self === undefined ? (rewriteRefs(root, renamed, self) as JsonSchema) : componentRef(self);
  }

  private vendorJson(schema: StandardSchemaV1, side: SchemaSide, where: string): JsonSchema {
    const vendor = schema['~standard'].vendor;
    if (!hasJsonSchema(schema)) {
      this.warnings.push(`${where}: this ${vendor} schema has no JSON Schema (Standard JSON Schema); documented as any value`);
      return {};
    }
    let sides = vendorJsonCache.get(schema);
    if (!sides) vendorJsonCache.set(schema, (sides = {}));
    try {
      sides[side] ??= schema['~standard'].jsonSchema[side]({ target: 'draft-2020-12' }) as JsonSchema;
      return sides[side];
    } catch (error) {
      this.warnings.push(`${where}: ${vendor} could not describe the schema as JSON Schema (${(error as Error).message}); documented as any value`);
      return {};
    }
  }

  /**
   * The component name for a schema: `name` itself, or the same name again
   * when it came from the same JSON (`fresh: false`); a different schema with
   * that name gets `<name>Input` (request side) or a numbered name.
   */
  private claim(name: string, fingerprint: string, side: SchemaSide): { name: string; fresh: boolean } {
    const candidates = side === 'input' ? [name, `${name}Input`] : [name];
    for (let index = 0; ; index++) {
      const candidate = candidates[index] ?? `${name}${index - candidates.length + 2}`;
      const existing = this.fingerprints.get(candidate);
      if (existing === fingerprint) return { name: candidate, fresh: false };
      if (existing === undefined) {
        this.fingerprints.set(candidate, fingerprint);
        return { name: candidate, fresh: true };
      }
    }
  }
}

function isBareRef(schema: JsonSchema): boolean {
  const keys = Object.keys(schema);
  return keys.length === 1 && typeof schema.$ref === 'string';
}

/** A copy with `#/$defs/x` and `#` refs pointing at components. */
function rewriteRefs(node: unknown, renamed: ReadonlyMap<string, string>, self: string | undefined): unknown {
  if (Array.isArray(node)) return node.map((item) => rewriteRefs(item, renamed, self));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') out[key] = rewriteRef(value, renamed, self);
    else out[key] = rewriteRefs(value, renamed, self);
  }
  return out;
}

function rewriteRef(ref: string, renamed: ReadonlyMap<string, string>, self: string | undefined): string {
  if (ref === '#' && self !== undefined) return `${COMPONENT_REF}${self}`;
  if (ref.startsWith(DEFS_REF)) {
    const [name, ...rest] = ref.slice(DEFS_REF.length).split('/');
    const component = renamed.get(decodeURIComponent(name!));
    if (component !== undefined) return [`${COMPONENT_REF}${component}`, ...rest].join('/');
  }
  return ref;
}
