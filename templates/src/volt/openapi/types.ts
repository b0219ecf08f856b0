import type { StandardSchemaV1 } from '../standard-schema.js';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) as plain data. */
export type JsonSchema = { [keyword: string]: unknown };

/** @see https://spec.openapis.org/oas/v3.1.0#info-object */
export interface OpenApiInfoObject {
  title: string;
  version: string;
  description?: string;
  termsOfService?: string;
  contact?: { name?: string; url?: string; email?: string };
  license?: { name: string; url?: string; identifier?: string };
}

/** @see https://spec.openapis.org/oas/v3.1.0#server-object */
export interface OpenApiServerObject {
  url: string;
  description?: string;
  variables?: Record<string, { default: string; description?: string; enum?: string[] }>;
}

/** @see https://spec.openapis.org/oas/v3.1.0#security-scheme-object */
export interface OpenApiSecuritySchemeObject {
  type: 'apiKey' | 'http' | 'mutualTLS' | 'oauth2' | 'openIdConnect';
  description?: string;
  /** apiKey: the header, query or cookie name. */
  name?: string;
  in?: 'query' | 'header' | 'cookie';
  /** http: `bearer`, `basic`, ... */
  scheme?: string;
  bearerFormat?: string;
  flows?: Record<string, unknown>;
  openIdConnectUrl?: string;
}

/**
 * Scheme name (a key of `securitySchemes`) -> scopes; `[]` for schemes without
 * scopes, `{}` for "no credentials". Undefined entries are left out (they
 * let `cond ? [{ bearerAuth: [] }, {}] : [...]` typecheck without a cast).
 */
export type SecurityRequirement = Record<string, string[] | undefined>;

/**
 * An error an action or procedure may answer with. A bare code takes its
 * status from the kernel's table (`NOT_FOUND` 404, `CONFLICT` 409, ...).
 */
export type ErrorDoc = string | { code: string; status?: number; description?: string };

/** What a procedure adds to the operations that `use` it. */
export interface ProcedureDocs {
  /** Alternatives, as in OpenAPI: one requirement object must be met (`[{ bearerAuth: [] }]`). */
  security?: SecurityRequirement[];
  /** Errors the procedure answers with (e.g. `UNAUTHORIZED`). */
  errors?: readonly ErrorDoc[];
  /** Query, header or cookie parameters it reads (e.g. a one-time ticket in the query). */
  parameters?: readonly OpenApiParameter[];
}

/** OpenAPI details of one action beyond what its path and schemas say. */
export interface ActionDocs {
  summary?: string;
  tags?: string[];
  /** Status of a successful response (`response.created()` answers 201, `noContent()` 204). @default 200 */
  status?: number;
  /** Errors the handler answers with (`response.notFound()`: `NOT_FOUND`); the kernel adds its own (validation, body, 500). */
  errors?: readonly ErrorDoc[];
  /**
   * What the path parameters hold. The kernel hands them to the handler as
   * strings; a schema here documents (and gives an example of) the value the
   * handler accepts.
   */
  params?: Record<string, StandardSchemaV1>;
  /** Replaces the requirements of the procedures in `use` (`[]`: public). */
  security?: SecurityRequirement[];
  deprecated?: boolean;
  /** Leaves the action out of the document. */
  hidden?: boolean;
}

/** The interactive reference (Scalar) and the document's route. */
export interface PlaygroundOptions {
  /** Serves the reference at `route` and the document at `{basePATH}/openapi.json`. @default true */
  enabled?: boolean;
  /** @default '/docs' */
  route?: string;
  /** Checked on every docs request: false answers 403, a throw 401. */
  security?: (request: Request) => boolean | Promise<boolean>;
}

/** `.docs({ ... })` on the builder, as in Volt.js. */
export interface DocsConfig {
  /**
   * A document to start from (Volt.js apps pass their generated
   * `openapi.json`). The paths and schemas are generated from the
   * controllers; the fields below replace its own.
   */
  openapi?: unknown;
  info?: OpenApiInfoObject;
  servers?: OpenApiServerObject[];
  securitySchemes?: Record<string, OpenApiSecuritySchemeObject>;
  playground?: PlaygroundOptions;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  description?: string;
  schema: JsonSchema;
  example?: unknown;
}

export interface OpenApiMediaType {
  schema?: JsonSchema;
  example?: unknown;
}

export interface OpenApiResponse {
  description: string;
  content?: Record<string, OpenApiMediaType>;
}

export interface OpenApiOperation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, OpenApiMediaType> };
  responses: Record<string, OpenApiResponse>;
  security?: SecurityRequirement[];
  deprecated?: boolean;
}

/** The generated document (OpenAPI 3.1). */
export interface OpenApiDocument {
  openapi: string;
  info: OpenApiInfoObject;
  servers?: OpenApiServerObject[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes?: Record<string, OpenApiSecuritySchemeObject>;
    [other: string]: unknown;
  };
  [other: string]: unknown;
}
