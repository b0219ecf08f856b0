/**
 * A Redis Cluster master failover under realtime load: the master owning the
 * `notes` channel's slot is killed (SIGKILL) while a publisher sends 200
 * events/s for 10 s, with clients on three app processes. Every event whose
 * publish was acknowledged must reach every client exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRedisSettings, type RedisSettings } from '../../src/scaling/redis/redis-settings.js';
import { startApp, type AppProcess } from '../support/app-process.js';
import { startCluster, type RedisCluster } from '../support/redis-servers.js';
import { createRealtimePublisher, type RealtimePublisher } from '../support/realtime-publisher.js';
import { ResumingSseClient } from '../support/sse-client.js';

type Connected = Exclude<RedisSettings, { mode: 'none' }>;

describe('realtime through a Redis master failover (cluster, 3 app processes)', () => {
  let cluster: RedisCluster;
  let apps: AppProcess[] = [];
  let publisher: RealtimePublisher;

  beforeAll(async () => {
    cluster = await startCluster();
    const env = { REDIS_CLUSTER_NODES: cluster.nodeList };
    apps = await Promise.all([1, 2, 3].map((n) => startApp(`app${n}`, env)));
    // The publisher waits for one replica per event (as the app does by default on a cluster).
    publisher = createRealtimePublisher(readRedisSettings(env) as Connected, 1);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await publisher?.close();
    await cluster?.close();
  }, 60_000);

  it('every acknowledged event reaches every client exactly once', async () => {
    const ports = () => apps.map((app) => app.port);
    // Two clients per instance.
    const clients = Array.from({ length: 6 }, (_, index) => new ResumingSseClient(ports, '/api/v1/sse/events?channels=notes', index % 3));
    await Promise.all(clients.map((client) => client.start()));
    const master = await cluster.masterFor('sse:{notes}');

    const acknowledged: string[] = [];
    const failures: string[] = [];
    const inFlight: Promise<void>[] = [];
    const started = Date.now();
    let failover: Promise<{ failoverMs: number }> | undefined;
    // 200 events/s for 10 s, on a fixed schedule whatever the latency of each publish.
    for (let index = 0; index < 2_000; index++) {
      const due = started + index * 5;
      if (due > Date.now()) await sleep(due - Date.now());
      if (index === 600) failover = cluster.killMaster(master);
      inFlight.push(
        publisher.publish('notes', 'message', { index, at: Date.now() }).then(
          (id) => void acknowledged.push(id),
          (error: Error) => void failures.push(error.message),
        ),
      );
    }
    await Promise.all(inFlight);
    const publishedAfterMs = Date.now() - started;
    const { failoverMs } = await failover!;

    const ackedSet = new Set(acknowledged);
    const deliveryStarted = Date.now();
    for (const client of clients) {
      await client.waitFor(
        (c) => {
          const ids = new Set(c.envelopes().map((event) => event.id));
          return acknowledged.every((id) => ids.has(id));
        },
        30_000,
        `all ${acknowledged.length} acknowledged events`,
      );
    }
    const report = clients.map((client) => {
      const ids = client.envelopes().map((event) => event.id);
      const unique = new Set(ids);
      return {
        received: ids.length,
        duplicates: ids.length - unique.size,
        unacknowledged: [...unique].filter((id) => !ackedSet.has(id)).length,
        reconnects: client.reconnectedAt.map((at) => at - started),
      };
    });
    console.log(
      `publishing took ${publishedAfterMs} ms, delivery check ${Date.now() - deliveryStarted} ms; ` +
        `app logs: ${apps
          .map(
            (app) =>
              app
                .output()
                .split('\n')
                .filter((line) => /error|warn/i.test(line)).length,
          )
          .join('/')} warn+error lines; ` +
        `failover ${failoverMs} ms; published 2000: acknowledged ${acknowledged.length}, failed ${failures.length}` +
        `${failures.length ? ` (${[...new Set(failures)].join('; ')})` : ''}; clients ${JSON.stringify(report)}`,
    );
    for (const [index, client] of clients.entries()) {
      const ids = client.envelopes().map((event) => event.id);
      // In stream order, each acknowledged id exactly once (no client-side dedupe needed).
      expect(
        ids.filter((id) => ackedSet.has(id)),
        `client ${index}`,
      ).toEqual([...acknowledged].sort(compareIds));
      expect(report[index]!.duplicates).toBe(0);
      client.stop();
    }
    expect(acknowledged.length).toBeGreaterThan(1_500);
  }, 120_000);
});

function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
