import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Served {
  server: Server;
  port: number;
  url: string;
  /** Closes the server and every connection still open on it. */
  close(): Promise<void>;
}

/**
 * Listens on a free loopback port: a listener gets a node:http server of its
 * own (created with `options`), a server is used as it is (e.g. `app.server`).
 */
export async function serve(target: Server | RequestListener, options: ServerOptions = {}): Promise<Served> {
  const server = typeof target === 'function' ? createServer(options, target) : target;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
