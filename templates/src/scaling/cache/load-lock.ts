import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { quietly, type RedisL2 } from './l2.js';

export interface LoadLockSettings {
  /** How long the lock lives if its holder never releases it. */
  lockTtlMs: number;
  /** How long other instances poll for the holder's value before loading themselves. */
  lockWaitMs: number;
  /** How often they poll. */
  lockPollMs: number;
}

/**
 * One load per key across instances: the instance that takes a short Redis
 * lock (SET NX PX) loads, the others poll for its result and load themselves
 * only if it does not come in time, or Redis cannot answer. Never a
 * correctness lock: at worst two instances load the same value.
 */
export class LoadLock {
  constructor(
    private readonly l2: RedisL2,
    private readonly settings: LoadLockSettings,
    private readonly isClosed: () => boolean,
  ) {}

  /**
   * `load()` under the lock named `lockKey`; while another instance holds it,
   * `holderResult()` is polled instead (undefined: nothing yet).
   */
  async run<T>(lockKey: string, holderResult: () => Promise<T | undefined>, load: () => Promise<T>): Promise<T> {
    const token = randomBytes(12).toString('base64url');
    const acquired = await quietly(this.l2.acquireLock(lockKey, token, this.settings.lockTtlMs));
    if (acquired === false) {
      const waited = await this.waitForHolder(lockKey, holderResult);
      if (waited !== undefined) return waited;
    }
    try {
      return await load();
    } finally {
      if (acquired === true) void quietly(this.l2.releaseLock(lockKey, token));
    }
  }

  /**
   * Stops early when the lock is gone without a result (the holder failed or
   * could not write): the holder writes before it releases, so one more read
   * after that is conclusive.
   */
  private async waitForHolder<T>(lockKey: string, holderResult: () => Promise<T | undefined>): Promise<T | undefined> {
    const deadline = Date.now() + this.settings.lockWaitMs;
    while (Date.now() < deadline && !this.isClosed()) {
      await sleep(this.settings.lockPollMs);
      const [found, held] = await Promise.all([holderResult(), quietly(this.l2.lockHeld(lockKey))]);
      if (found !== undefined) return found;
      if (held === false) return holderResult();
      if (!this.l2.available) return undefined;
    }
    return undefined;
  }
}
