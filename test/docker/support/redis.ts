/**
 * Reading a compose project's Redis servers with redis-cli inside their
 * containers, as the admin user (the project's admin-cli.sh reads the
 * password from the compose secret mounted there).
 */
import type { ComposeProject } from './compose.js';

export async function redisCli(project: ComposeProject, service: string, ...args: string[]): Promise<string> {
  const result = await project.exec(service, ['sh', '/usr/local/etc/redis/admin-cli.sh', ...args], { timeoutMs: 10_000 });
  if (result.exitCode !== 0) throw new Error(`redis-cli ${args.join(' ')} in ${service} failed: ${result.all}`);
  return result.stdout.replace(/\r/g, '');
}

export interface ClusterNode {
  id: string;
  /** The announced hostname: the compose service name. */
  hostname: string;
  flags: string[];
  masterId: string;
  configEpoch: number;
  slots: Array<[number, number]>;
}

/** CLUSTER NODES as one node sees it. */
export async function clusterNodes(project: ComposeProject, service: string): Promise<ClusterNode[]> {
  const text = await redisCli(project, service, 'cluster', 'nodes');
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , epoch, , ...slots] = line.split(' ');
      return {
        id: id!,
        hostname: address!.split(',')[1] ?? '',
        flags: flags!.split(','),
        masterId: masterId!,
        configEpoch: Number(epoch),
        slots: slots
          .filter((range) => /^\d/.test(range))
          .map((range) => {
            const [from, to = from] = range.split('-');
            return [Number(from), Number(to)] as [number, number];
          }),
      };
    });
}

/** The master serving the hash slot of key, and its replica, by service name. */
export async function shardOfKey(project: ComposeProject, via: string, key: string): Promise<{ master: ClusterNode; replica: ClusterNode | undefined }> {
  const slot = Number((await redisCli(project, via, 'cluster', 'keyslot', key)).trim());
  const nodes = await clusterNodes(project, via);
  const master = nodes.find((node) => node.flags.includes('master') && node.slots.some(([from, to]) => slot >= from && slot <= to));
  if (!master) throw new Error(`no master serves slot ${slot} of ${key}`);
  return { master, replica: nodes.find((node) => node.masterId === master.id) };
}

/** True when every replica among services has finished its sync with its master. */
export async function replicasInSync(project: ComposeProject, services: string[]): Promise<boolean> {
  for (const service of services) {
    const info = await redisCli(project, service, 'info', 'replication');
    if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
  }
  return true;
}
