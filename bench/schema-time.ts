/**
 * Compile and transform time per schema over the vendored real-world corpus
 * (libs/llm/test/fixtures/schema-corpus): `node --import tsx bench/schema-time.ts`.
 *
 * Compile: SchemaCompiler.compile of each distinct schema, after each draft's ajv instance is warm
 * (as in a running processor), in ROUNDS rounds with a fresh compiler each round; the figure per
 * schema is its median. Transform: each provider's transformSchema, once per schema (pure, cached by
 * the engine per schema). Prints p50, p99, max and the slowest schemas; writes
 * bench/results/schema-time.json. Nothing here asserts on timings.
 *
 * Each figure is measured twice: wall time (performance.now) and this process's CPU time
 * (process.cpuUsage, user + system). On a machine shared with other work, wall time includes the time
 * the process waited for a core; CPU time does not, and is the figure to compare across runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { transformSchema as anthropicTransform } from '../libs/llm/src/providers/anthropic/schema-transform.js';
import { transformSchema as geminiTransform } from '../libs/llm/src/providers/gemini/schema-transform.js';
import { transformSchema as localTransform } from '../libs/llm/src/providers/local/schema-transform.js';
import { transformSchema as openaiTransform } from '../libs/llm/src/providers/openai/schema-transform.js';
import { SchemaCompiler } from '../libs/llm/src/validation/schema-compiler.js';
import { loadCorpus } from '../libs/llm/test/fixtures/schema-corpus/corpus.js';

const ROUNDS = Number(process.env.SCHEMA_TIME_ROUNDS ?? 3);
const RESULT = fileURLToPath(new URL('./results/schema-time.json', import.meta.url));
const TRANSFORMS = {
  openai: openaiTransform,
  anthropic: anthropicTransform,
  gemini: geminiTransform,
  local: localTransform,
};

interface Timing {
  name: string;
  ms: number;
}

function summary(timings: Timing[]) {
  const sorted = [...timings].sort((a, b) => a.ms - b.ms);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]?.ms ?? 0;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    count: sorted.length,
    p50_ms: round(at(0.5)),
    p90_ms: round(at(0.9)),
    p99_ms: round(at(0.99)),
    max_ms: round(sorted.at(-1)?.ms ?? 0),
    total_ms: round(sorted.reduce((sum, t) => sum + t.ms, 0)),
    slowest: sorted
      .slice(-10)
      .reverse()
      .map((t) => ({ schema: t.name, ms: round(t.ms) })),
  };
}

function warmCompiler(): SchemaCompiler {
  const compiler = new SchemaCompiler({ maxEntries: 100_000 });
  for (const $schema of [
    'http://json-schema.org/draft-04/schema#',
    'http://json-schema.org/draft-06/schema#',
    'http://json-schema.org/draft-07/schema#',
    'https://json-schema.org/draft/2019-09/schema',
    'https://json-schema.org/draft/2020-12/schema',
  ])
    compiler.compile({
      $schema,
      type: 'object',
      properties: { a: { type: 'string', pattern: '^a', format: 'date' } },
    });
  return compiler;
}

const corpus = loadCorpus();
const load = { start: loadavg()[0] ?? 0 };
const compileRuns = new Map<string, number[]>();
const compileCpuRuns = new Map<string, number[]>();
const cpuMs = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};
const outcome = new Map<string, 'compiled' | 'refused'>();
for (let round = 0; round < ROUNDS; round++) {
  const compiler = warmCompiler();
  for (const entry of corpus) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    try {
      compiler.compile(entry.schema);
      outcome.set(entry.name, 'compiled');
    } catch {
      outcome.set(entry.name, 'refused');
    }
    const ms = performance.now() - started;
    compileRuns.set(entry.name, [...(compileRuns.get(entry.name) ?? []), ms]);
    compileCpuRuns.set(entry.name, [...(compileCpuRuns.get(entry.name) ?? []), cpuMs(cpu)]);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const compile = [...compileRuns].map(([name, runs]) => ({ name, ms: median(runs) }));
const compileCpu = [...compileCpuRuns].map(([name, runs]) => ({ name, ms: median(runs) }));

const transform: Record<string, Timing[]> = {};
const transformCpu: Record<string, Timing[]> = {};
for (const [provider, transformSchema] of Object.entries(TRANSFORMS)) {
  transform[provider] = [];
  transformCpu[provider] = [];
  for (const entry of corpus) {
    if (outcome.get(entry.name) !== 'compiled') continue; // the service refuses it before any transform
    const cpu = process.cpuUsage();
    const started = performance.now();
    try {
      transformSchema(entry.schema);
    } catch {
      // measured all the same; the corpus test reports errors
    }
    transform[provider]!.push({ name: entry.name, ms: performance.now() - started });
    transformCpu[provider]!.push({ name: entry.name, ms: cpuMs(cpu) });
  }
}

const result = {
  benchmark: 'schema-time',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
  load_average_1m: { start: load.start, end: loadavg()[0] ?? 0 },
  corpus: {
    schemas: corpus.length,
    compiled: [...outcome.values()].filter((o) => o === 'compiled').length,
    refused: [...outcome.values()].filter((o) => o === 'refused').length,
  },
  compile: { rounds: ROUNDS, wall: summary(compile), cpu: summary(compileCpu) },
  transform: Object.fromEntries(
    Object.keys(transform).map((p) => [p, { wall: summary(transform[p]!), cpu: summary(transformCpu[p]!) }]),
  ),
};
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(RESULT, `${JSON.stringify(result, null, 2)}\n`);

const line = (label: string, s: ReturnType<typeof summary>) =>
  `${label.padEnd(28)} p50 ${s.p50_ms.toFixed(2).padStart(7)} ms  p99 ${s.p99_ms.toFixed(2).padStart(8)} ms  max ${s.max_ms.toFixed(1).padStart(8)} ms  slowest ${s.slowest[0]?.schema}`;
console.log(
  `schema time over ${corpus.length} schemas (${result.corpus.compiled} compiled, ${result.corpus.refused} refused), ` +
    `load ${load.start.toFixed(2)} → ${result.load_average_1m.end.toFixed(2)}`,
);
console.log(line(`compile wall (median/${ROUNDS})`, result.compile.wall));
console.log(line(`compile cpu (median/${ROUNDS})`, result.compile.cpu));
for (const [provider, s] of Object.entries(result.transform)) {
  console.log(line(`transform ${provider} wall`, s.wall));
  console.log(line(`transform ${provider} cpu`, s.cpu));
}
console.log(`wrote ${RESULT}`);
