/**
 * The API document (OpenAPI 3.1) generated from the controllers, and the API
 * reference that shows it. `.docs({ info, servers, securitySchemes, playground })`
 * on the builder configures both, as in Volt.js; `router.openapi()` returns the
 * document (built once per router).
 */
export { buildOpenApiDocument, type BuiltDocument, type DocumentSource } from './document.js';
export { createDocsServer, DEFAULT_DOCS_ROUTE, type DocsServer, type DocsServerOptions } from './playground.js';
export { docsContentSecurityPolicy } from './csp.js';
export { findScalarBundle } from './scalar-bundle.js';
export type * from './types.js';
