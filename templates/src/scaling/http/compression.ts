import type { IncomingMessage, ServerResponse } from 'node:http';
import compression from 'compression';

export interface CompressorOptions {
  /** Bodies smaller than this are sent as they are (`COMPRESSION_THRESHOLD_BYTES`). */
  thresholdBytes: number;
}

/**
 * Compression engaged at send time, only for bodies that can gain from it.
 * Installed as ordinary middleware, the `compression` package patches every
 * response (writeHead, write, end, on), a cost paid even by the small
 * responses it then leaves alone (docs/performance.md). Here the kernel calls `compress`
 * once the whole body is known and passes the threshold; only then is
 * the middleware applied to this one response, which it compresses with gzip
 * or br as `Accept-Encoding` asks (identity otherwise).
 *
 * Returns true when it sent the response. Event streams are never compressed:
 * a compressor buffers, and SSE events must reach the client one by one.
 */
export function createCompressor(options: CompressorOptions) {
  const threshold = options.thresholdBytes;
  const middleware = compression({
    threshold,
    filter: (req, res) => !isEventStream(res) && compression.filter(req, res),
  });
  const noop = () => {};

  return {
    threshold,
    compress(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean {
      if (body.length < threshold || isEventStream(res)) return false;
      const accept = req.headers['accept-encoding'];
      if (accept === undefined || accept === '' || accept === 'identity') return false;
      // The middleware decides the encoding, sets Content-Encoding and Vary and
      // drops the Content-Length; it calls next() synchronously.
      middleware(req as never, res as never, noop);
      res.end(body);
      return true;
    },
  };
}

function isEventStream(res: ServerResponse): boolean {
  const type = res.getHeader('content-type');
  return typeof type === 'string' && type.startsWith('text/event-stream');
}
