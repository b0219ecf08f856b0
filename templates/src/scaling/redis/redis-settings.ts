/**
 * Where Redis is, read from the environment. Three shapes:
 * - none: no variable set, every adapter uses its in-memory twin (`npm run dev`);
 * - standalone: `REDIS_URL`, or `REDIS_HOST` + `REDIS_PORT`;
 * - cluster: `REDIS_CLUSTER_NODES` (also read as `REDIS_CLUSTER_HOSTS`), `host:port,...`,
 *   with an optional `REDIS_NAT_MAP` (`announced:port=reachable:port,...`) for nodes
 *   that announce addresses the app cannot reach (Docker networks, NAT).
 */
export interface HostPort {
  host: string;
  port: number;
}

export type RedisSettings =
  | { mode: 'none' }
  | { mode: 'standalone'; url: string; username?: string; password?: string }
  | { mode: 'cluster'; nodes: HostPort[]; natMap?: Record<string, HostPort>; username?: string; password?: string };

type RedisVariable = 'URL' | 'HOST' | 'PORT' | 'CLUSTER_NODES' | 'CLUSTER_HOSTS' | 'NAT_MAP' | 'USERNAME' | 'PASSWORD';
export type RedisEnv = { [Name in `REDIS_${RedisVariable}`]?: string };

export function parseHostPort(text: string, variable: string): HostPort {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port > 0 && port < 65_536)) {
    throw new Error(`${variable}: expected host:port, got "${text}"`);
  }
  return { host: match[1], port };
}

function parseNatMap(text: string): Record<string, HostPort> {
  const map: Record<string, HostPort> = {};
  for (const pair of text.split(',').filter((entry) => entry.trim())) {
    const [announced, reachable] = pair.split('=');
    if (!announced || !reachable) throw new Error(`REDIS_NAT_MAP: expected announced=reachable, got "${pair}"`);
    const from = parseHostPort(announced, 'REDIS_NAT_MAP');
    map[`${from.host}:${from.port}`] = parseHostPort(reachable, 'REDIS_NAT_MAP');
  }
  return map;
}

export function readRedisSettings(env: RedisEnv): RedisSettings {
  const credentials = {
    ...(env.REDIS_USERNAME ? { username: env.REDIS_USERNAME } : {}),
    ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
  };
  const clusterNodes = env.REDIS_CLUSTER_NODES || env.REDIS_CLUSTER_HOSTS;
  if (clusterNodes) {
    const variable = env.REDIS_CLUSTER_NODES ? 'REDIS_CLUSTER_NODES' : 'REDIS_CLUSTER_HOSTS';
    const nodes = clusterNodes
      .split(',')
      .filter((entry) => entry.trim())
      .map((entry) => parseHostPort(entry, variable));
    if (nodes.length === 0) throw new Error(`${variable}: no nodes listed`);
    return {
      mode: 'cluster',
      nodes,
      ...(env.REDIS_NAT_MAP ? { natMap: parseNatMap(env.REDIS_NAT_MAP) } : {}),
      ...credentials,
    };
  }
  if (env.REDIS_URL) {
    if (!/^rediss?:\/\//.test(env.REDIS_URL)) throw new Error(`REDIS_URL: expected redis://... or rediss://..., got "${env.REDIS_URL}"`);
    return { mode: 'standalone', url: env.REDIS_URL, ...credentials };
  }
  if (env.REDIS_HOST) {
    const { host, port } = parseHostPort(`${env.REDIS_HOST}:${env.REDIS_PORT ?? '6379'}`, 'REDIS_HOST/REDIS_PORT');
    return { mode: 'standalone', url: `redis://${host}:${port}`, ...credentials };
  }
  return { mode: 'none' };
}

/** For logs and /health: where we connect, never the password. */
export function describeRedis(settings: RedisSettings): string {
  if (settings.mode === 'none') return 'in-memory (no Redis configured)';
  if (settings.mode === 'cluster') return `cluster ${settings.nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
  const url = new URL(settings.url);
  url.password = '';
  url.username = '';
  return `standalone ${url.host}`;
}
