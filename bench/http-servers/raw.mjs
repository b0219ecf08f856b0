// Baseline: plain node:http answering the same bytes as the kernel (same
// headers, same envelope, same in-memory work for notes). Prints {"port":N}.
import { createServer } from 'node:http';

const INSTANCE = 'bench-1';
const PING = '{"data":{"pong":true},"error":null}';
const notes = new Map();
let seq = 0;

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-instance-id': INSTANCE, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/api/v1/ping') return send(res, 200, PING);
  if (req.method === 'POST' && req.url === '/api/v1/notes') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, '{"data":null,"error":{"code":"INVALID_JSON","message":"Malformed JSON body"}}');
      }
      const text = body?.text;
      if (typeof text !== 'string' || text.length < 1 || text.length > 500) {
        return send(res, 400, '{"data":null,"error":{"code":"VALIDATION_ERROR","message":"Invalid body"}}');
      }
      const note = { id: ++seq, text, createdAt: new Date().toISOString(), instanceId: INSTANCE };
      notes.set(`notes:${note.id}`, JSON.stringify(note));
      send(res, 201, JSON.stringify({ data: note, error: null }));
    });
    return;
  }
  send(res, 404, '{"data":null,"error":{"code":"NOT_FOUND","message":"Not found"}}');
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));

// Exit normally on a signal so --cpu-prof can write its profile.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
