/** Reading the stack's Redis Cluster with redis-cli, to pick a master to kill and time the failover. */
import { execFile } from 'node:child_process';
import type { Endpoint } from '../../scripts/stack/topology.js';

/** redis-cli as the stack's admin user. */
export function redisCli(node: Endpoint, password: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', node.host, '-p', String(node.port), '--user', 'admin', ...args],
      { env: { ...process.env, REDISCLI_AUTH: password }, timeout: 5_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout.replace(/\r/g, ''))),
    );
  });
}

export interface ClusterNode {
  id: string;
  ip: string;
  flags: string[];
  masterId: string;
}

/** CLUSTER NODES as seen by `node`. */
export async function clusterNodes(node: Endpoint, password: string): Promise<ClusterNode[]> {
  const text = await redisCli(node, password, 'cluster', 'nodes');
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId] = line.split(' ');
      return { id: id!, ip: address!.split(':')[0]!, flags: flags!.split(','), masterId: masterId! };
    });
}

/** True when every replica of the cluster has finished syncing with its master. */
export async function replicasInSync(nodes: Endpoint[], password: string): Promise<boolean> {
  for (const node of nodes) {
    const info = await redisCli(node, password, 'info', 'replication');
    if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
  }
  return true;
}

/** The masters holding at least one Redis Stream (the SSE channel logs). */
export async function mastersWithStreams(nodes: Endpoint[], password: string): Promise<Endpoint[]> {
  const found: Endpoint[] = [];
  for (const node of nodes) {
    const info = await redisCli(node, password, 'info', 'replication');
    if (!info.includes('role:master')) continue;
    // SCAN ... TYPE (redis-cli 7.0's --scan has no --type option).
    let cursor = '0';
    let streams = 0;
    do {
      const [next, ...keys] = (await redisCli(node, password, 'scan', cursor, 'type', 'stream', 'count', '1000')).trim().split('\n');
      cursor = next ?? '0';
      streams += keys.filter(Boolean).length;
    } while (cursor !== '0');
    if (streams > 0) found.push(node);
  }
  return found;
}
