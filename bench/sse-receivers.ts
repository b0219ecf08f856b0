/**
 * A process of SSE subscribers for bench/sse.ts, so that reading 1,000
 * streams does not share one event loop with the publisher. Latency uses
 * wall-clock time with sub-millisecond precision (`timeOrigin + now()`), the
 * same clock in every process on the machine; the sender puts its time in the
 * event data (`at`, or the note's `text`).
 *
 * The subscribers are deliberately minimal: a raw socket that takes the time
 * as soon as bytes arrive, then only looks for complete frames and the sender's
 * time in them (no EventSource parsing, no JSON.parse). Every receiver shares
 * the two cores with the app instances, so a full client per stream would
 * measure the receivers more than the servers. The stream format itself is
 * checked by the tests (test/support/sse-client.ts).
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

interface Open {
  kind: 'open';
  ports: number[];
  path: string;
  count: number;
  /** Index of the first subscriber overall, so instances are assigned round-robin across workers. */
  offset: number;
}
type Command = Open | { kind: 'reset' } | { kind: 'collect' } | { kind: 'close' };

const sockets: Socket[] = [];
let latencies: number[] = [];
let receipts = 0;
let perInstance: number[] = [];
const now = () => performance.timeOrigin + performance.now();
/** The sender's time: a transport event's `at`, or a note's `text`. */
const SENT_AT = /"(?:at|text)":"?(\d+(?:\.\d+)?)/;

/** One frame (text between blank lines) of an event stream; heartbeats and the `connected` event are not counted. */
function onFrame(frame: string, receivedAt: number, instance: number): void {
  if (!frame.includes('\nevent: ') && !frame.startsWith('event: ')) return;
  if (frame.includes('event: connected')) return;
  receipts++;
  perInstance[instance]!++;
  const sent = SENT_AT.exec(frame);
  if (sent) latencies.push(receivedAt - Number(sent[1]));
}

function subscribe(port: number, path: string, instance: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    let carry = '';
    let headers = true;
    socket.on('data', (chunk: Buffer) => {
      const receivedAt = now();
      let text = carry + chunk.toString('latin1');
      if (headers) {
        const end = text.indexOf('\r\n\r\n');
        if (end === -1) {
          carry = text;
          return;
        }
        if (!text.startsWith('HTTP/1.1 200')) {
          reject(new Error(`subscribe failed: ${text.slice(0, text.indexOf('\r\n'))}`));
          socket.destroy();
          return;
        }
        headers = false;
        text = text.slice(end + 4);
        resolve(socket);
      }
      // Frames end with a blank line; chunked-encoding size lines sit between writes, outside frames.
      let from = 0;
      for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', from)) {
        onFrame(text.slice(from, end), receivedAt, instance);
        from = end + 2;
      }
      carry = text.slice(from);
    });
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`);
  });
}

async function open(command: Open): Promise<void> {
  perInstance = command.ports.map(() => 0);
  for (let index = 0; index < command.count; index += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, command.count - index) }, (_, offset) => {
        const instance = (command.offset + index + offset) % command.ports.length;
        return subscribe(command.ports[instance]!, command.path, instance);
      }),
    );
    sockets.push(...batch);
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
        for (const socket of sockets) socket.destroy();
        sockets.length = 0;
        process.send!({ kind: 'closed' });
        break;
    }
  })().catch((error: unknown) => {
    process.send!({ kind: 'error', message: String(error) });
  });
});
process.send!({ kind: 'ready' });
