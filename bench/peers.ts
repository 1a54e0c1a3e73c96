// npm run bench:peers — the fake provider called directly and through LiteLLM's proxy and Portkey's
// gateway, at the overhead benchmark's concurrencies, without our pipeline. Writes bench/results/peers.json.
// (npm run bench:overhead runs the peers too, in the same run as the pipeline.)
import { runOverhead } from './overhead.js';

await runOverhead('peers');
