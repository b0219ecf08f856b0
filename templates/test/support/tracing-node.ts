/**
 * A Node.js that can run tracing (the OpenTelemetry SDK needs >= 22.15): the
 * one running the tests when it is new enough, otherwise the binary named by
 * TRACING_TEST_NODE (the suites still run on older versions the app supports).
 */
import { execFileSync } from 'node:child_process';
import { TRACING_MIN_NODE, assertTracingRuntime } from '../../src/scaling/tracing/index.js';

export type TracingNode = { path: string; version: string } | { missing: string };

export function nodeForTracing(): TracingNode {
  try {
    assertTracingRuntime(process.versions.node);
    return { path: process.execPath, version: process.versions.node };
  } catch {
    // This Node.js is too old: fall through to TRACING_TEST_NODE.
  }
  const path = process.env.TRACING_TEST_NODE;
  if (!path) {
    return { missing: `tracing needs Node.js >= ${TRACING_MIN_NODE} and this is ${process.versions.node}: set TRACING_TEST_NODE to a newer node binary` };
  }
  const version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  assertTracingRuntime(version);
  return { path, version };
}
