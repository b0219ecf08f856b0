// Fastify 5 doing the same work: ping, and notes POST validated by a JSON
// schema (ajv) into the same in-memory store. Prints {"port":N}.
import Fastify from 'fastify';
import { addBenchRoutes } from './fastify-routes.mjs';

const app = Fastify({ logger: false });
addBenchRoutes(app, 'bench-1');

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`);

// Exit normally on a signal so --cpu-prof can write its profile.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
