/**
 * Where each process of the local stack listens. Every app and Redis server
 * gets its own loopback address and keeps the port it has in docker-compose.yml
 * (3000, 6379); a private /etc/hosts maps the compose hostnames (app1,
 * redis-1, ...) to those addresses, so nginx.conf and REDIS_CLUSTER_NODES work
 * unchanged. A random 127.X.Y.0/24 per stack keeps two stacks on one machine
 * (parallel test runs) apart.
 */
export type RedisMode = 'standalone' | 'cluster';

export interface Endpoint {
  name: string;
  host: string;
  port: number;
}

export interface Topology {
  redis: RedisMode;
  instances: number;
  /** First three octets, e.g. "127.83.17". */
  subnet: string;
  apps: Endpoint[];
  redisNodes: Endpoint[];
  /** nginx, on the host's 127.0.0.1 so http://localhost:PORT works. */
  proxy: Endpoint;
}

export const APP_PORT = 3000;
export const METRICS_PORT = 9091;
export const REDIS_PORT = 6379;

export function randomSubnet(random: () => number = Math.random): string {
  // 127.100-199.x: clear of 127.0.0.0/16, which other local services like to use.
  return `127.${100 + Math.floor(random() * 100)}.${Math.floor(random() * 256)}`;
}

export function buildTopology(options: { redis: RedisMode; instances: number; subnet: string; proxyPort: number }): Topology {
  const { redis, instances, subnet, proxyPort } = options;
  const apps = Array.from({ length: instances }, (_, i) => ({ name: `app${i + 1}`, host: `${subnet}.${i + 2}`, port: APP_PORT }));
  const redisNodes =
    redis === 'cluster'
      ? Array.from({ length: 6 }, (_, i) => ({ name: `redis-${i + 1}`, host: `${subnet}.${i + 101}`, port: REDIS_PORT }))
      : [{ name: 'redis', host: `${subnet}.100`, port: REDIS_PORT }];
  return { redis, instances, subnet, apps, redisNodes, proxy: { name: 'nginx', host: '127.0.0.1', port: proxyPort } };
}

/** The private /etc/hosts: compose service names -> loopback addresses. */
export function hostsFile(topology: Pick<Topology, 'apps' | 'redisNodes'>): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
  for (const e of [...topology.apps, ...topology.redisNodes]) lines.push(`${e.host} ${e.name}`);
  return `${lines.join('\n')}\n`;
}

/** What the apps get in docker-compose.yml, with the same hostnames. */
export function redisEnvironment(topology: Pick<Topology, 'redis' | 'redisNodes'>): Record<string, string> {
  return topology.redis === 'cluster'
    ? { REDIS_CLUSTER_NODES: topology.redisNodes.map((n) => `${n.name}:${n.port}`).join(',') }
    : { REDIS_URL: `redis://${topology.redisNodes[0]!.name}:${REDIS_PORT}` };
}
