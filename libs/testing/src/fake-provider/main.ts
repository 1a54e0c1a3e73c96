// Runs the fake provider as its own process (development mode and benchmarks).
import { FakeProviderServer } from './server.js';

const server = await new FakeProviderServer({
  port: Number(process.env.FAKE_PROVIDER_PORT ?? 18080),
  latencyMs: Number(process.env.FAKE_PROVIDER_LATENCY_MS ?? 200),
}).start();
console.log(`fake provider listening on ${server.url} (OpenAI base URL ${server.openaiBaseUrl})`);
const stop = () => void server.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
