import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { TRACING_MIN_NODE, assertTracingRuntime } from '../../src/scaling/tracing/index.js';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');

describe('tracing settings', () => {
  it('is on when an OTLP endpoint is set (also the traces-only one), off otherwise or with OTEL_SDK_DISABLED=true', () => {
    expect(loadConfig({}).tracing.enabled).toBe(false);
    // Compose passes `${VAR:-}` as an empty value.
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).tracing.enabled).toBe(false);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing.enabled).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/v1/traces' }).tracing.enabled).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' }).tracing.enabled).toBe(false);
  });

  it('names the service after the package unless OTEL_SERVICE_NAME says otherwise (the SDK reads that one)', () => {
    // templates/ tested in place has no package.json (it is rendered at generation).
    const manifest = path.join(projectRoot, 'package.json');
    const name = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name : 'api';
    expect(loadConfig({}).tracing.serviceName).toBe(name);
  });

  it('rejects an endpoint that is not a URL, naming the variable', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318 ' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it(`needs Node.js >= ${TRACING_MIN_NODE}, and says how to run without tracing`, () => {
    expect(() => assertTracingRuntime('20.19.0')).toThrow(
      /needs Node\.js >= 22\.15\.0, and this is 20\.19\.0\. Run on Node\.js 22\.15\+ or 24 .*unset OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(() => assertTracingRuntime('22.14.9')).toThrow();
    expect(() => assertTracingRuntime('22.15.0')).not.toThrow();
    expect(() => assertTracingRuntime('24.0.0')).not.toThrow();
  });

  it('the minimum is what the installed OpenTelemetry packages declare', () => {
    const require = createRequire(path.join(projectRoot, 'package.json'));
    for (const name of ['@opentelemetry/sdk-node', '@opentelemetry/instrumentation-ioredis', '@opentelemetry/resources']) {
      expect(manifestOf(require.resolve(name), name).engines?.node, name).toBe(`>=${TRACING_MIN_NODE}`);
    }
  });
});

/** The package.json of the package `file` belongs to (their `exports` do not list it). */
function manifestOf(file: string, name: string): { engines?: { node?: string } } {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (!existsSync(candidate)) continue;
    const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; engines?: { node?: string } };
    if (manifest.name === name) return manifest;
  }
  throw new Error(`no package.json for ${name} above ${file}`);
}
