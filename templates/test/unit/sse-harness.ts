/**
 * An SSE processor on the in-memory log behind a real node:http server, for
 * the processor's tests: real sockets on both ends, and the server's side of
 * each client's connection at hand (how many bytes wait to be sent to it).
 */
import type { Socket } from 'node:net';
import { loadConfig } from '../../src/config.js';
import { authChannels } from '../../src/features/auth/auth.channels.js';
import { notesChannels } from '../../src/features/notes/notes.channels.js';
import { MemoryChannelLog } from '../../src/scaling/realtime/memory-channel-log.js';
import { SseProcessor, type SseProcessorOptions } from '../../src/scaling/realtime/sse-processor.js';
import { serve } from '../support/serve.js';
import { SseClient } from '../support/sse-client.js';
import type { RealtimeContext } from '../../src/volt.js';

export type Context = Pick<RealtimeContext, 'user'>;
export const PATH = '/api/v1/sse/events';

export interface Harness {
  processor: SseProcessor<Context>;
  log: MemoryChannelLog;
  port: number;
  open(query: string, lastEventId?: string): Promise<SseClient>;
  /** The server's socket to this client. */
  serverSocket(client: SseClient): Socket;
  /** Bytes the server holds for this client that its kernel has not taken yet. */
  unsent(client: SseClient): number;
}

const cleanups: Array<() => Promise<void>> = [];

/** For `afterEach`: closes every harness and client opened since the last call. */
export async function closeHarnesses(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** A real node:http server whose context names the user from a test-only header. */
export async function harness(options: Partial<SseProcessorOptions<Context>> & { maxLength?: number } = {}): Promise<Harness> {
  const log = new MemoryChannelLog({ maxLength: options.maxLength ?? 100 });
  const processor = new SseProcessor<Context>({
    ...loadConfig({}).realtime,
    log,
    channels: [...notesChannels, ...authChannels],
    instanceId: 'test-instance',
    ...options,
  });
  const { server, port, close } = await serve((req, res) => {
    const user = req.headers['x-test-user'];
    const context: Context = { user: typeof user === 'string' ? { id: user, name: null, expiresAt: Date.now() + 60_000, claims: { sub: user } } : null };
    processor.serve(req, res, context);
  });
  const sockets = new Map<number, Socket>();
  server.on('connection', (socket: Socket) => sockets.set(socket.remotePort!, socket));
  const clients: SseClient[] = [];
  // Taken at open: a closed socket no longer knows its port.
  const localPorts = new Map<SseClient, number>();
  cleanups.push(async () => {
    for (const client of clients) client.close();
    await processor.close();
    await close();
  });
  const serverSocket = (client: SseClient) => {
    const socket = sockets.get(localPorts.get(client) ?? -1);
    if (!socket) throw new Error(`no server socket for the client on port ${localPorts.get(client)}`);
    return socket;
  };
  return {
    processor,
    log,
    port,
    async open(query, lastEventId) {
      const client = await SseClient.open({ port, path: `${PATH}?${query}`, ...(lastEventId !== undefined ? { lastEventId } : {}) });
      clients.push(client);
      if (client.localPort !== undefined) localPorts.set(client, client.localPort);
      return client;
    },
    serverSocket,
    unsent: (client) => serverSocket(client).writableLength,
  };
}
