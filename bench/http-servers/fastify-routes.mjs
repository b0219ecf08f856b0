// The two benchmark routes as fastify 5 serves them: ping, and notes POST
// validated by a JSON schema (ajv) into an in-memory store. Shared by
// fastify.mjs (bare) and fastify-stack.mjs (with the default-stack equivalents).
export function addBenchRoutes(app, instanceId) {
  app.get('/api/v1/ping', async (_req, reply) => {
    reply.header('x-instance-id', instanceId);
    return { data: { pong: true }, error: null };
  });

  const notes = new Map();
  let seq = 0;
  app.post(
    '/api/v1/notes',
    { schema: { body: { type: 'object', required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 500 } } } } },
    async (req, reply) => {
      const note = { id: ++seq, text: req.body.text, createdAt: new Date().toISOString(), instanceId };
      notes.set(`notes:${note.id}`, JSON.stringify(note));
      reply.code(201).header('x-instance-id', instanceId);
      return { data: note, error: null };
    },
  );
}
