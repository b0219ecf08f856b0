// Fastify 5 doing the same work: ping, and notes POST validated by a JSON
// schema (ajv) into the same in-memory store. Prints {"port":N}.
import Fastify from 'fastify';

const INSTANCE = 'bench-1';
const notes = new Map();
let seq = 0;
const app = Fastify({ logger: false });

app.get('/api/v1/ping', async (_req, reply) => {
  reply.header('x-instance-id', INSTANCE);
  return { data: { pong: true }, error: null };
});

app.post(
  '/api/v1/notes',
  {
    schema: {
      body: {
        type: 'object',
        required: ['text'],
        properties: { text: { type: 'string', minLength: 1, maxLength: 500 } },
      },
    },
  },
  async (req, reply) => {
    const note = { id: ++seq, text: req.body.text, createdAt: new Date().toISOString(), instanceId: INSTANCE };
    notes.set(`notes:${note.id}`, JSON.stringify(note));
    reply.code(201).header('x-instance-id', INSTANCE);
    return { data: note, error: null };
  },
);

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`);

// Exit normally on a signal so --cpu-prof can write its profile.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
