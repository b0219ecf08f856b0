/**
 * Reading infra/grafana/dashboards/*.json the way Grafana evaluates it: the
 * panels, their PromQL targets, and template variables substituted.
 */
import { readFileSync } from 'node:fs';

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: GridPos;
  fieldConfig?: { defaults?: { unit?: string; min?: number; max?: number; decimals?: number } };
  targets?: Target[];
}

export interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  includeAll?: boolean;
  allValue?: string;
  multi?: boolean;
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** `label_values(selector, label)`, Grafana's Prometheus variable query, split into its parts. */
export function labelValuesQuery(variable: Variable): { selector: string; label: string } {
  const text = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
  const match = /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/.exec(text.trim());
  if (!match) throw new Error(`variable ${variable.name}: unsupported query "${text}"`);
  return { selector: match[1]!.trim(), label: match[2]! };
}

/**
 * The expression Grafana sends to Prometheus: `$var`, `${var}` and
 * `[[var]]` replaced from `values`. Anything left that looks like a variable
 * is an error, so a new variable cannot slip through unevaluated.
 */
export function substitute(expr: string, values: Record<string, string>): string {
  const out = expr.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for ${whole} in: ${expr}`);
    return value;
  });
  return out;
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/**
 * Metric names a PromQL expression reads: identifiers outside label matchers,
 * strings, ranges and grouping clauses, not called as functions or aggregations.
 * Good enough for the dashboard's expressions, and used for messages only.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const name = match[0];
    const after = bare.slice(match.index + name.length).trimStart();
    if (after.startsWith('(') || NOT_METRICS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** The legend Grafana shows for a series: `{{label}}` from its labels. */
export function legend(format: string | undefined, labels: Record<string, string>): string {
  if (!format) {
    const pairs = Object.entries(labels).filter(([key]) => key !== '__name__');
    return pairs.length === 0 ? 'value' : pairs.map(([key, value]) => `${key}="${value}"`).join(', ');
  }
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '').trim();
}
