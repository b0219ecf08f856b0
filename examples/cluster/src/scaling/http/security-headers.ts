/**
 * Security headers on every response the app writes, so they hold without a
 * proxy in front too (nginx adds the same ones only to answers of its own).
 * The operations layer puts the API set on every response; a layer that
 * serves something a browser renders replaces the policy for its responses
 * with `setContentSecurityPolicy(res, CONTENT_SECURITY_POLICY.page)` (or a
 * policy of its own, added here).
 */
import type { ServerResponse } from 'node:http';
import { replaceResponseHeader } from './header-adding-response.js';

export const CONTENT_SECURITY_POLICY = {
  /** JSON, health and errors: nothing to render, and never shown inside another site's frame. */
  api: "frame-ancestors 'none'",
  /**
   * The demo page (public/): scripts, styles, images and requests (fetch,
   * EventSource) from this origin only, no inline code, forms posting here only.
   */
  page: [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
} as const;

/**
 * The headers every response starts with, as name/value pairs:
 * - `nosniff`: browsers take the Content-Type as given (JSON never runs as a script);
 * - `no-referrer`: links followed from a page leak none of its URL;
 * - the API's Content-Security-Policy.
 */
export const SECURITY_HEADERS: readonly string[] = [
  'x-content-type-options',
  'nosniff',
  'referrer-policy',
  'no-referrer',
  'content-security-policy',
  CONTENT_SECURITY_POLICY.api,
];

/** Replaces the response's policy, before its head is written (one header, never two). */
export function setContentSecurityPolicy(res: ServerResponse, policy: string): void {
  replaceResponseHeader(res, 'content-security-policy', policy);
}
