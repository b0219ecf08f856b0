/// <reference path="../../types/cluster-key-slot.d.ts" />
/**
 * Replication is asynchronous: a master that dies right after acknowledging
 * a write can take it along. WAIT holds the acknowledgement until replicas
 * have it. It must run on the connection that wrote (the key's master) and it
 * blocks that connection, so writes are confirmed in rounds: one WAIT in
 * flight per master covers every write finished before it was sent. When a
 * round comes back short (no replica: failover, resync), waits pause for a
 * second instead of stalling every write. A failed wait only costs the
 * guarantee, never the write.
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './connections.js';

interface WaitRound {
  waiting: Array<(replicas: number) => void>;
  sending: boolean;
  pausedUntil: number;
}

export interface ReplicaWaitOptions {
  /** Replicas that must hold a write (0: confirm nothing). */
  replicas: number;
  /** WAIT's own timeout. */
  timeoutMs: number;
  logger?: { warn(object: object, message?: string): void } | undefined;
}

const PAUSE_AFTER_SHORT_ROUND_MS = 1_000;

export class ReplicaWait {
  private readonly rounds = new WeakMap<Redis, WaitRound>();

  constructor(
    private readonly client: RedisClient,
    private readonly options: ReplicaWaitOptions,
  ) {}

  get enabled(): boolean {
    return this.options.replicas > 0;
  }

  /** Resolves once `options.replicas` replicas hold every write to `key` made so far, or once that cannot be confirmed. */
  async confirm(key: string): Promise<void> {
    if (!this.enabled) return;
    try {
      const node = this.masterOf(key);
      if (node?.status !== 'ready') throw new Error('master not connected');
      let round = this.rounds.get(node);
      if (!round) {
        round = { waiting: [], sending: false, pausedUntil: 0 };
        this.rounds.set(node, round);
      }
      if (Date.now() < round.pausedUntil) return;
      const replicas = await new Promise<number>((resolve) => {
        round.waiting.push(resolve);
        if (!round.sending) void this.sendRound(node, round);
      });
      if (replicas < this.options.replicas) this.options.logger?.warn({ key, replicas }, 'write not confirmed on a replica');
    } catch (error) {
      this.options.logger?.warn({ key, err: error }, 'replica wait failed');
    }
  }

  private async sendRound(node: Redis, round: WaitRound): Promise<void> {
    round.sending = true;
    while (round.waiting.length > 0) {
      const covered = round.waiting;
      round.waiting = [];
      let replicas = 0;
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<number>((resolve) => {
          timer = setTimeout(resolve, this.options.timeoutMs + 1_000, 0);
        });
        replicas = await Promise.race([node.wait(this.options.replicas, this.options.timeoutMs), timeout]);
      } catch {
        replicas = 0;
      } finally {
        clearTimeout(timer);
      }
      if (replicas < this.options.replicas) round.pausedUntil = Date.now() + PAUSE_AFTER_SHORT_ROUND_MS;
      for (const resolve of covered) resolve(replicas);
    }
    round.sending = false;
  }

  /** The connection that took writes to `key`: the client itself, or on a cluster the master of its slot. */
  private masterOf(key: string): Redis | undefined {
    if (!this.client.isCluster) return this.client as Redis;
    const cluster = this.client as Cluster;
    const nodeKey = cluster.slots[calculateSlot(key)]?.[0];
    return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === nodeKey);
  }
}
