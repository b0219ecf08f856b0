import { readFileSync } from 'node:fs';

/**
 * The stack runs infra/nginx/nginx.conf as docker-compose does. One line
 * differs: `listen`, which the stack points at 127.0.0.1:<port> so several
 * stacks (and whatever else owns port 8080) can share a machine.
 */
export function localNginxConfig(source: string, port: number): string {
  const listen = /^(\s*)listen\s+[^;]+;/gm;
  const matches = source.match(listen) ?? [];
  if (matches.length !== 1) {
    throw new Error(`nginx.conf must have exactly one "listen" directive for npm run stack to replace; found ${matches.length}`);
  }
  return source.replace(listen, `$1listen 127.0.0.1:${port};`);
}

/** The app servers nginx.conf's upstream lists (app1:3000, ...), in order. */
export function upstreamServers(source: string): string[] {
  const upstream = /upstream\s+\w+\s*\{([^}]*)\}/.exec(source);
  if (!upstream) return [];
  return [...upstream[1]!.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((m) => m[1]!);
}

/** Refuses a config whose upstream does not list exactly app1..appN on port 3000. */
export function checkUpstream(configFile: string, appNames: string[], port: number): void {
  const servers = upstreamServers(readFileSync(configFile, 'utf8'));
  const expected = appNames.map((name) => `${name}:${port}`);
  if (servers.join(',') !== expected.join(',')) {
    throw new Error(
      `${configFile} proxies to ${servers.join(', ') || 'no servers'}, but the stack runs ${expected.join(', ')}. ` +
        'Pass --instances to match the upstream block, or edit it.',
    );
  }
}

/** Arguments for nginx in the foreground with every path under prefix (a directory ending in /). */
export function nginxArgs(prefix: string, configFile: string, testOnly = false): string[] {
  return [...(testOnly ? ['-t', '-q'] : []), '-p', prefix, '-c', configFile, '-e', 'stderr', ...(testOnly ? [] : ['-g', 'daemon off;'])];
}
