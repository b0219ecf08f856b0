import type { StoreMessageHandler } from '../../volt/store.js';

/** What the bus needs from a store: the Redis store, or the memory store in one process. */
export interface PubSub {
  publish(channel: string, message: unknown): Promise<void>;
  subscribe(channel: string, handler: StoreMessageHandler): Promise<void>;
  unsubscribe(channel: string, handler?: StoreMessageHandler): Promise<void>;
  /** Called when messages may have been missed (subscriber reconnected). */
  onResubscribe?(listener: () => void): () => void;
}

export type Invalidation =
  /** One key was written or deleted: drop it from L1. */
  | { kind: 'key'; key: string }
  /** The namespace was cleared: new generation, drop all of L1. */
  | { kind: 'clear'; generation: number };

export interface BusListener {
  onInvalidation(invalidation: Invalidation): void;
  /** The subscription was interrupted: invalidations may have been lost. */
  onMissed(): void;
}

interface WireMessage {
  /** Origin: the sender ignores its own messages. */
  o: string;
  k?: string;
  g?: number;
}

export function invalidationChannel(namespace: string): string {
  return `cache:${namespace}:invalidate`;
}

/**
 * Cross-instance invalidation over pub/sub, one channel per namespace. Every
 * message names its origin so an instance skips what it sent itself (it has
 * already updated its own L1).
 */
export class InvalidationBus {
  constructor(
    private readonly pubsub: PubSub,
    /** Unique per bus (per process), not just per host. */
    readonly originId: string,
  ) {}

  /** Listen to one namespace; resolves once subscribed. Returns the leave function. */
  async join(namespace: string, listener: BusListener): Promise<() => Promise<void>> {
    const channel = invalidationChannel(namespace);
    const handler: StoreMessageHandler = (text) => {
      const message = parse(text);
      if (!message || message.o === this.originId) return;
      if (typeof message.g === 'number') listener.onInvalidation({ kind: 'clear', generation: message.g });
      else if (typeof message.k === 'string') listener.onInvalidation({ kind: 'key', key: message.k });
    };
    const stopWatching = this.pubsub.onResubscribe?.(() => listener.onMissed()) ?? (() => undefined);
    await this.pubsub.subscribe(channel, handler);
    return async () => {
      stopWatching();
      await this.pubsub.unsubscribe(channel, handler);
    };
  }

  announce(namespace: string, invalidation: Invalidation): Promise<void> {
    const message: WireMessage = invalidation.kind === 'key' ? { o: this.originId, k: invalidation.key } : { o: this.originId, g: invalidation.generation };
    return this.pubsub.publish(invalidationChannel(namespace), JSON.stringify(message));
  }
}

function parse(text: string): WireMessage | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && typeof (value as WireMessage).o === 'string') return value as WireMessage;
  } catch {
    // Not ours: someone else published on the channel.
  }
  return undefined;
}
