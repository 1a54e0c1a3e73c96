// A bare Fastify app for the floor benchmark (bench/floor.ts), run as its own process like
// ingest-api: the repo's Fastify version, one POST route that parses a JSON body and answers a small
// JSON, no logger, no plugins.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/floor', async (request) => {
  const body = request.body as { prompt?: string } | undefined;
  return { id: 'floor', status: 'completed', prompt_chars: body?.prompt?.length ?? 0, result: { ok: true } };
});
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`floor fastify listening on ${address}`);
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
