import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { AbstractConnector } from 'ioredis';

interface TlsConnectorOptions {
  host?: string | undefined;
  port?: number | undefined;
  tls?: ConnectionOptions | undefined;
  disconnectTimeout?: number | undefined;
}

/**
 * The TLS socket ioredis would open, with one difference: it never lets an
 * error go unheard. ioredis listens for a single 'error' per socket, but a
 * failed TLS handshake can emit two (the local certificate check, then the
 * server's alert), and a second 'error' with no listener ends the process
 * (ioredis issues #962, #1183). ioredis still receives and reports the first.
 * Used for every TLS connection (the `Connector` option of ioredis).
 */
export class TlsConnector extends AbstractConnector {
  private readonly options: TlsConnectorOptions;

  /** ioredis passes each connection's options (host, port, tls, ...). */
  constructor(options: unknown) {
    const own = options as TlsConnectorOptions;
    super(own.disconnectTimeout ?? 2_000);
    this.options = own;
  }

  connect(): Promise<TLSSocket> {
    this.connecting = true;
    return new Promise((resolve, reject) => {
      // As ioredis: the socket is made on the next tick, unless disconnect() came first.
      process.nextTick(() => {
        if (!this.connecting) {
          reject(new Error('Connection is closed.'));
          return;
        }
        let socket: TLSSocket;
        try {
          socket = connect({ host: this.options.host, port: this.options.port, ...this.options.tls });
        } catch (error) {
          reject(error as Error);
          return;
        }
        this.stream = socket;
        socket.once('error', (error) => {
          this.firstError = error;
        });
        socket.on('error', () => undefined);
        resolve(socket);
      });
    });
  }
}
