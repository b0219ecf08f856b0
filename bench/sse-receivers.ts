/**
 * A process of SSE subscribers for bench/sse.ts, so that parsing events from
 * 1,000 streams does not share one event loop with the publisher. Latency uses
 * wall-clock time with sub-millisecond precision (`timeOrigin + now()`), the
 * same clock in every process on the machine; the sender puts its time in the
 * event data (`at`, or the note's `text`).
 */
import { performance } from 'node:perf_hooks';
import { SseClient } from '../templates/test/support/sse-client.js';

interface Open {
  kind: 'open';
  ports: number[];
  path: string;
  count: number;
  /** Index of the first subscriber overall, so instances are assigned round-robin across workers. */
  offset: number;
}
type Command = Open | { kind: 'reset' } | { kind: 'collect' } | { kind: 'close' };

const clients: SseClient[] = [];
let latencies: number[] = [];
let receipts = 0;
let perInstance: number[] = [];
const now = () => performance.timeOrigin + performance.now();

function onEvent(data: string, instance: number): void {
  const receivedAt = now();
  receipts++;
  perInstance[instance]!++;
  const envelope = JSON.parse(data) as { data: { text?: string; at?: number } };
  const at = envelope.data.at ?? Number(envelope.data.text);
  if (Number.isFinite(at)) latencies.push(receivedAt - at);
}

async function open(command: Open): Promise<void> {
  perInstance = command.ports.map(() => 0);
  for (let index = 0; index < command.count; index += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, command.count - index) }, (_, offset) => {
        const instance = (command.offset + index + offset) % command.ports.length;
        return SseClient.open({ port: command.ports[instance]!, path: command.path, keep: false, onEvent: (event) => onEvent(event.data, instance) });
      }),
    );
    for (const client of batch) if (client.status !== 200) throw new Error(`subscribe failed: ${client.status} ${client.body}`);
    clients.push(...batch);
  }
}

process.on('message', (command: Command) => {
  void (async () => {
    switch (command.kind) {
      case 'open':
        await open(command);
        process.send!({ kind: 'opened' });
        break;
      case 'reset':
        latencies = [];
        receipts = 0;
        perInstance = perInstance.map(() => 0);
        process.send!({ kind: 'reset' });
        break;
      case 'collect':
        process.send!({ kind: 'collected', latencies, receipts, perInstance });
        break;
      case 'close':
        for (const client of clients) client.close();
        clients.length = 0;
        process.send!({ kind: 'closed' });
        break;
    }
  })().catch((error: unknown) => {
    process.send!({ kind: 'error', message: String(error) });
  });
});
process.send!({ kind: 'ready' });
