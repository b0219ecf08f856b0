/**
 * The whole topology for real: `npm run stack` (Redis Cluster, N app
 * instances, nginx with the compose nginx.conf), exercised only through nginx.
 * Needs redis-server, redis-cli, nginx and root (private /etc/hosts).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseClient } from '../support/sse-client.js';
import { buildApp, infraForTests, type RunningStack, startStack, stillRunning, tryStartStack } from './harness.js';
import { clusterNodes, mastersWithStreams, redisCli, replicasInSync } from './redis-cluster.js';
import { noteText, ResumingSubscriber, send, startGetLoad, startPublisher, type Outcome } from './traffic.js';

const SSE_PATH = '/api/v1/sse/events?channels=notes';
const LOAD_MS = 20_000;
const KILL_AFTER_MS = 5_000;
const LOAD = { workers: 4, perWorkerPerSecond: 40, paths: ['/api/v1/ping', '/api/v1/notes'] };

let stack: RunningStack;
let infraDir = '';
let instances = 0;
let appNames: string[] = [];
let stopped = false;

beforeAll(async () => {
  await buildApp();
  const infra = await infraForTests();
  infraDir = infra.infraDir;
  instances = infra.instances;
  appNames = Array.from({ length: instances }, (_, i) => `app${i + 1}`);
  // The Redis flavour is a runtime choice (the app reads REDIS_CLUSTER_NODES or
  // REDIS_URL), so the stack tests always take the harder one: a cluster.
  stack = await startStack({ redis: 'cluster', instances, infraDir: infra.infraDir });
});

afterAll(async () => {
  if (stack && !stopped) await stack.stop();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** GETs `path` until every instance has answered at least once; returns one answer per instance. */
async function onEveryInstance(path: string): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  for (let i = 0; i < instances * 20 && seen.size < instances; i++) {
    const answer = await send({ port: stack.port, path });
    expect(answer.status, answer.body).toBe(200);
    if (answer.instance && !seen.has(answer.instance)) seen.set(answer.instance, answer.body);
  }
  expect([...seen.keys()].sort()).toEqual([...appNames].sort());
  return seen;
}

/** Failures summarised for the report: how many, and from when to when relative to `since`. */
function failureWindow(outcomes: Outcome[], since: number) {
  const failed = outcomes.filter((o) => !o.ok);
  return {
    total: outcomes.length,
    failed: failed.length,
    firstMs: failed.length ? Math.min(...failed.map((o) => o.at - since)) : null,
    lastMs: failed.length ? Math.max(...failed.map((o) => o.at - since)) : null,
    kinds: [...new Set(failed.map((o) => o.error ?? String(o.status)))],
  };
}

describe('the stack through nginx', () => {
  it('spreads requests over every instance', async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < instances * 6; i++) {
      const answer = await send({ port: stack.port, path: '/api/v1/ping' });
      expect(answer.status).toBe(200);
      counts.set(answer.instance!, (counts.get(answer.instance!) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...appNames].sort());
  });

  it('compresses a large JSON response and leaves a small one as is', async () => {
    for (let i = 0; i < 6; i++) {
      const created = await send({ port: stack.port, method: 'POST', path: '/api/v1/notes', body: { text: `large-${i}-${'x'.repeat(400)}` } });
      expect(created.status, created.body).toBe(201);
    }
    const large = await send({ port: stack.port, path: '/api/v1/notes', headers: { 'accept-encoding': 'gzip' } });
    expect(large.status).toBe(200);
    expect(large.headers['content-encoding']).toBe('gzip');
    const json = JSON.parse(gunzipSync(large.raw).toString('utf8')) as { data: Array<{ text: string }> };
    expect(json.data.some((note) => note.text.startsWith('large-5-'))).toBe(true);

    const small = await send({ port: stack.port, path: '/api/v1/ping', headers: { 'accept-encoding': 'gzip' } });
    expect(small.status).toBe(200);
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('passes /health/live, hides /metrics and per-instance health, sends security headers once', async () => {
    const live = await send({ port: stack.port, path: '/health/live' });
    expect(live.status).toBe(200);
    for (const answer of [live, await send({ port: stack.port, path: '/metrics' })]) {
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.headers['content-security-policy']).toBe("frame-ancestors 'none'");
    }
    for (const hidden of ['/metrics', '/health', '/health/ready']) {
      expect((await send({ port: stack.port, path: hidden })).status, hidden).toBe(404);
    }
  });

  it("logs one request id at both hops: nginx's own, with a caller's X-Request-Id only as client_request_id", async () => {
    const callerId = `caller-${randomUUID()}`;
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const withId = await send({ port: stack.port, path: '/api/v1/ping', headers: { 'x-request-id': callerId, traceparent } });
    const withoutId = await send({ port: stack.port, path: '/api/v1/ping' });
    const ids = [withId, withoutId].map((answer) => {
      expect(answer.status).toBe(200);
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
      return answer.headers['x-request-id'] as string;
    });
    expect(ids[0]).not.toBe(callerId);

    // Request lines reach the app's log within its 100 ms batch window.
    const logOf = (name: string) => readFileSync(path.join(stack.stateDir, 'logs', `${name}.log`), 'utf8');
    const appLine = (instance: string, id: string) =>
      logOf(instance)
        .split('\n')
        .find((line) => line.includes(`"reqId":"${id}"`));
    for (let i = 0; i < 50 && !(appLine(withId.instance!, ids[0]!) && appLine(withoutId.instance!, ids[1]!)); i++) await sleep(100);
    const accessLog = logOf('nginx')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // The caller's W3C trace context is logged too (empty when it sent none).
    for (const [answer, id, clientId, callerTrace] of [
      [withId, ids[0]!, callerId, traceparent],
      [withoutId, ids[1]!, '', ''],
    ] as const) {
      const line = JSON.parse(appLine(answer.instance!, id) ?? 'null') as { route: string; status: number; instance: string } | null;
      expect(line, `request line of ${id} in ${answer.instance}.log`).toMatchObject({ route: '/api/v1/ping', status: 200, instance: answer.instance });
      expect(
        accessLog.find((entry) => entry.request_id === id),
        `access log line of ${id}`,
      ).toMatchObject({ request: 'GET /api/v1/ping HTTP/1.1', status: 200, client_request_id: clientId, traceparent: callerTrace });
    }
  });

  it('limits the request rate per client address and the body size at the edge', async () => {
    // 400 requests as fast as 8 connections go (below the per-address connection cap): the burst (200) passes, the rest get 429.
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 50; i++) statuses.push((await send({ port: stack.port, path: '/api/v1/ping', localAddress: '127.0.0.250' })).status);
      }),
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(200);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    // Another address is not affected.
    expect((await send({ port: stack.port, path: '/api/v1/ping', localAddress: '127.0.0.251' })).status).toBe(200);

    const tooLarge = await send({ port: stack.port, method: 'POST', path: '/api/v1/notes', body: { text: 'x'.repeat(2 * 1024 * 1024) } });
    expect(tooLarge.status).toBe(413);
  });

  it('delivers SSE through nginx event by event, uncompressed', async () => {
    const client = await SseClient.open({ port: stack.port, path: SSE_PATH, headers: { 'accept-encoding': 'gzip' } });
    try {
      expect(client.status).toBe(200);
      expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(client.headers['content-encoding']).toBeUndefined();
      // Each event must arrive before the next is even sent: a buffering proxy
      // would hold the first one back and this would time out.
      for (let i = 0; i < 3; i++) {
        const text = `one-by-one-${i}-${Date.now()}`;
        const created = await send({ port: stack.port, method: 'POST', path: '/api/v1/notes', body: { text } });
        expect(created.status).toBe(201);
        await client.waitFor((c) => c.events.some((e) => noteText(e) === text), 3_000, `event ${text}`);
      }
    } finally {
      client.close();
    }
  });

  it('fans a write on one instance out to SSE clients on every instance, and no instance serves a stale list', async () => {
    // least_conn gives each new long-lived stream to the instance with the fewest.
    const clients: SseClient[] = [];
    try {
      for (let i = 0; i < instances; i++) clients.push(await SseClient.open({ port: stack.port, path: SSE_PATH }));
      expect(clients.map((c) => c.headers['x-instance-id']).sort(), 'each SSE response names its instance (X-Instance-Id)').toEqual([...appNames].sort());

      await onEveryInstance('/api/v1/notes'); // every instance has the list cached now
      const text = `fan-out-${Date.now()}`;
      const created = await send({ port: stack.port, method: 'POST', path: '/api/v1/notes', body: { text } });
      expect(created.status).toBe(201);

      await Promise.all(clients.map((c) => c.waitFor((cl) => cl.events.some((e) => noteText(e) === text), 5_000, `event ${text}`)));
      const lists = await onEveryInstance('/api/v1/notes');
      for (const [instance, body] of lists) expect(body, `list served by ${instance}`).toContain(text);
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('loses at most the requests in flight and no SSE event when an app instance is killed under load', async () => {
    const subscribers = Array.from({ length: instances }, () => new ResumingSubscriber({ port: stack.port, path: SSE_PATH }));
    try {
      expect(await Promise.all(subscribers.map((s) => s.waitFor(() => s.instances.length > 0, 10_000)))).toEqual(subscribers.map(() => true));
      const victimName = subscribers[0]!.instances[0]!;
      expect(appNames, 'the SSE response names its instance (X-Instance-Id)').toContain(victimName);
      const victim = stack.state().processes.find((p) => p.name === victimName)!;

      const load = startGetLoad({ port: stack.port, ...LOAD });
      const publisher = startPublisher({ port: stack.port, label: `app-kill-${Date.now()}`, everyMs: 100 });
      await sleep(KILL_AFTER_MS);
      const killedAt = Date.now();
      process.kill(victim.pid, 'SIGKILL');
      await sleep(LOAD_MS - KILL_AFTER_MS);
      const gets = await load.stop();
      await publisher.stop();

      const expected = publisher.acknowledged;
      await Promise.all(subscribers.map((s) => s.waitFor(() => expected.every((t) => s.texts.has(t)), 15_000)));
      const lost = subscribers.map((s) => expected.filter((t) => !s.texts.has(t)).length);
      const report = {
        killed: victimName,
        gets: failureWindow(gets, killedAt),
        posts: failureWindow(publisher.outcomes, killedAt),
        published: expected.length,
        lostPerSubscriber: lost,
        resumedOn: subscribers.map((s) => s.instances.join('>')),
      };
      console.log(`[stack failover] app instance killed: ${JSON.stringify(report)}`);

      // The load ran on both sides of the kill (not a throughput check).
      expect(gets.filter((o) => o.ok && o.at > killedAt + 1_000).length).toBeGreaterThan(0);
      expect(publisher.outcomes.filter((o) => o.ok && o.at > killedAt + 1_000).length).toBeGreaterThan(0);
      expect(lost).toEqual(subscribers.map(() => 0));
      // One request per load worker (and one POST) can be in flight at the kill.
      expect(report.gets.failed).toBeLessThanOrEqual(LOAD.workers);
      expect(report.posts.failed).toBeLessThanOrEqual(1);
      // The subscriber that was on the killed instance resumed elsewhere.
      const moved = subscribers[0]!.instances;
      expect(moved.length).toBeGreaterThan(1);
      expect(moved.at(-1)).not.toBe(victimName);
    } finally {
      await Promise.all(subscribers.map((s) => s.close()));
    }
  });

  it('loses no SSE event and fails requests only within the failover window when a Redis master is killed under load', async () => {
    const { topology } = stack.state();
    const password = stack.adminPassword;
    const inSync = async () => replicasInSync(topology.redisNodes, password);
    const deadline = Date.now() + 20_000;
    while (!(await inSync())) {
      expect(Date.now(), 'replicas in sync before the kill').toBeLessThan(deadline);
      await sleep(200);
    }
    const withStreams = await mastersWithStreams(topology.redisNodes, password);
    expect(withStreams.length).toBeGreaterThan(0);
    const victimNode = withStreams[0]!;
    const victim = stack.state().processes.find((p) => p.name === victimNode.name)!;
    const survivor = topology.redisNodes.find((n) => n.name !== victimNode.name)!;
    const before = await clusterNodes(survivor, password);
    const victimId = before.find((n) => n.ip === victimNode.host)!.id;
    const replicaId = before.find((n) => n.masterId === victimId)!.id;

    const subscribers = Array.from({ length: 2 }, () => new ResumingSubscriber({ port: stack.port, path: SSE_PATH }));
    try {
      expect(await Promise.all(subscribers.map((s) => s.waitFor(() => s.instances.length > 0, 10_000)))).toEqual([true, true]);
      const load = startGetLoad({ port: stack.port, ...LOAD });
      const publisher = startPublisher({ port: stack.port, label: `redis-kill-${Date.now()}`, everyMs: 100 });
      await sleep(KILL_AFTER_MS);
      const killedAt = Date.now();
      process.kill(victim.pid, 'SIGKILL');
      // The failover window: from the kill until the victim's replica is a master.
      let promotedAt = 0;
      while (Date.now() - killedAt < LOAD_MS - KILL_AFTER_MS) {
        const nodes = await clusterNodes(survivor, password).catch(() => []);
        if (nodes.find((n) => n.id === replicaId)?.flags.includes('master')) {
          promotedAt = Date.now();
          break;
        }
        await sleep(50);
      }
      await sleep(Math.max(0, killedAt + LOAD_MS - KILL_AFTER_MS - Date.now()));
      const gets = await load.stop();
      await publisher.stop();

      const expected = publisher.acknowledged;
      await Promise.all(subscribers.map((s) => s.waitFor(() => expected.every((t) => s.texts.has(t)), 15_000)));
      const lost = subscribers.map((s) => expected.filter((t) => !s.texts.has(t)).length);
      const report = {
        killed: victimNode.name,
        failoverMs: promotedAt ? promotedAt - killedAt : null,
        gets: failureWindow(gets, killedAt),
        posts: failureWindow(publisher.outcomes, killedAt),
        published: expected.length,
        lostPerSubscriber: lost,
      };
      console.log(`[stack failover] Redis master killed: ${JSON.stringify(report)}`);

      expect(promotedAt, 'a replica took over').toBeGreaterThan(0);
      expect(lost).toEqual([0, 0]);
      // Notes were published, and delivered, after the failover too.
      expect(publisher.outcomes.filter((o) => o.ok && o.at > promotedAt).length).toBeGreaterThan(0);
      const windowEnd = promotedAt - killedAt + 2_000; // + the clients' retry and topology refresh
      for (const part of [report.gets, report.posts]) {
        if (part.failed === 0) continue;
        expect(part.firstMs!).toBeGreaterThanOrEqual(0);
        expect(part.lastMs!).toBeLessThanOrEqual(windowEnd);
      }
    } finally {
      await Promise.all(subscribers.map((s) => s.close()));
    }
  });

  it('stops every process it started', async () => {
    before = await snapshot();
    expect(before.list.length).toBeGreaterThan(10);
    const groups = stack.processGroups();
    expect(groups.length).toBe(1 + 6 + instances + 1);
    expect(stillRunning(groups).length).toBeGreaterThan(0);
    const result = await stack.stop();
    stopped = true;
    expect(result.code, result.output).toBe(0);
    expect(stillRunning(groups)).toEqual([]);
  });
});

/** What the stack holds: the newest notes, the id counter and the notes stream (read as admin). */
async function snapshot(): Promise<{ list: Array<{ id: number }>; seq: number; stream: string[] }> {
  const list = JSON.parse((await send({ port: stack.port, path: '/api/v1/notes' })).body).data;
  const nodes = stack.state().topology.redisNodes;
  // The master of the key's slot answers; the others redirect (to names only the stack resolves).
  const cli = async (...args: string[]) => {
    for (const node of nodes) {
      const answer = await redisCli(node, stack.adminPassword, ...args).catch(() => 'MOVED');
      if (!answer.startsWith('MOVED')) return answer;
    }
    throw new Error(`no node answered ${args.join(' ')}`);
  };
  const seq = Number((await cli('GET', 'notes:seq')).trim());
  const stream = (await cli('XRANGE', 'sse:{notes}', '-', '+')).split('\n').filter((line) => /^\d+-\d+$/.test(line));
  return { list, seq, stream };
}

let before: Awaited<ReturnType<typeof snapshot>>;

describe('the stack started again on its state directory', () => {
  it('keeps every note and the stream history; the cluster re-forms from nodes.conf', async () => {
    stack = await startStack({ redis: 'cluster', instances, infraDir, again: stack });
    stopped = false;
    const log = readFileSync(path.join(stack.stateDir, 'logs', 'supervisor.log'), 'utf8');
    expect(log).toContain('Redis Cluster already formed (6 nodes known); not creating it again.');
    const after = await snapshot();
    expect(after.seq).toBe(before.seq);
    expect(after.list).toEqual(before.list);
    expect(after.stream).toEqual(before.stream);
    // An SSE client that was on the stream resumes from its last id, and new notes carry on.
    const resumed = await SseClient.open({ port: stack.port, path: SSE_PATH, lastEventId: before.stream.at(-2)! });
    const created = await send({ port: stack.port, path: '/api/v1/notes', method: 'POST', body: { text: 'after a restart' } });
    expect(created.status, created.body).toBe(201);
    expect(JSON.parse(created.body).data.id).toBe(before.seq + 1);
    await resumed.waitFor((client) => client.envelopes().filter((e) => e.channel === 'notes').length === 2, 10_000, 'the last old event and the new one');
    expect(resumed.envelopes().filter((e) => e.channel === 'notes')[0]!.id).toBe(before.stream.at(-1));
    resumed.close();
    expect((await stack.stop()).code).toBe(0);
    stopped = true;
  });

  it('refuses to mix flavours on kept data, and starts empty with --fresh', async () => {
    const standalone = await tryStartStack({ redis: 'standalone', instances, infraDir, again: stack });
    expect('failed' in standalone && standalone.failed.output).toContain(
      'holds the data of a cluster Redis: start with --redis cluster, or add --fresh to delete it',
    );
    stack = await startStack({ redis: 'cluster', instances, infraDir, again: stack, args: ['--fresh'] });
    stopped = false;
    expect(JSON.parse((await send({ port: stack.port, path: '/api/v1/notes' })).body).data).toEqual([]);
  });
});
