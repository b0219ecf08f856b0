import { VOLT_DEFAULTS, type KernelOptions } from '../kernel.js';
import type { VoltController } from '../types.js';
import { buildOpenApiDocument } from './document.js';
import { createDocsServer } from './playground.js';
import type { DocsConfig, OpenApiDocument } from './types.js';

export interface RouterDocs {
  /** The router's document, built on first call and kept. */
  openapi(): OpenApiDocument;
  /** For the kernel's `fallback`: serves the docs routes when `.docs()` is on. */
  serve: KernelOptions['fallback'];
}

/**
 * The documentation side of one router: its OpenAPI document and, when
 * `.docs()` configured it (and did not disable the playground), the routes
 * that serve it. The document is then built at once, so a mistake in it (an
 * unknown security scheme) stops the start rather than a later request.
 */
export function routerDocs(controllers: readonly VoltController[], options: KernelOptions & { docs?: DocsConfig | undefined }): RouterDocs {
  const basePATH = options.config.basePATH ?? VOLT_DEFAULTS.basePATH;
  let document: OpenApiDocument | undefined;
  const openapi = (): OpenApiDocument => {
    if (document === undefined) {
      const built = buildOpenApiDocument({
        controllers,
        basePATH,
        baseURL: options.config.baseURL,
        docs: options.docs ?? {},
        realtime: options.realtime ? { errors: options.realtime.errors ?? [], procedures: options.realtime.use ?? [] } : null,
      });
      if (built.warnings.length > 0) options.logger.warn({ warnings: built.warnings }, `API document: ${built.warnings.length} incomplete description(s)`);
      document = built.document;
    }
    return document;
  };
  if (!options.docs || options.docs.playground?.enabled === false) return { openapi, serve: undefined };
  const server = createDocsServer({ basePATH, docs: options.docs, document: openapi, logger: options.logger });
  openapi();
  return { openapi, serve: server.serve };
}

/** Instance settings over the builder's: `playground` merged key by key. */
export function mergeDocs(base: DocsConfig | undefined, overrides: DocsConfig | undefined): DocsConfig | undefined {
  if (!base || !overrides) return overrides ?? base;
  return { ...base, ...overrides, playground: { ...base.playground, ...overrides.playground } };
}
