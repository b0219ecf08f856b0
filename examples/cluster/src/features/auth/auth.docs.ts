import type { OpenApiSecuritySchemeObject } from '../../volt/index.js';

/** The API document's name for what `auth()` accepts from API clients: `Authorization: Bearer <jwt>`. */
export const BEARER_AUTH = 'bearerAuth';

/** For `.docs({ securitySchemes })` in volt.ts: the operations that `use: [auth()]` require it. */
export const authSecuritySchemes: Record<string, OpenApiSecuritySchemeObject> = {
  [BEARER_AUTH]: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A JWT from the identity provider (or `npm run token` with AUTH_SECRET). ' +
      'Browsers may send the session cookie of `POST /api/v1/auth/session` instead.',
  },
};
