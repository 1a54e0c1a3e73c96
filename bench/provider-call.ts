/**
 * What one provider call costs the calling process: the fake provider of libs/testing (its own
 * process, latency 0), called through the path the engine uses — createRouter's LanguageModel
 * adapter (official SDK), traced, under its ResilientProvider — at a few concurrencies. Per level:
 * process CPU (user + system, process.cpuUsage) per call and p50/p99 latency of `provider.call`,
 * median of the rounds. Each call gets its own deadline signal, as the request processor makes one
 * (`AbortSignal.timeout`). Warnings the process emits (e.g. MaxListenersExceededWarning) are counted.
 *
 *   node --import tsx bench/provider-call.ts [--provider openai|anthropic|gemini]
 *     [--calls 5000] [--concurrency 1,64] [--rounds 3] [--label before]
 *
 * Writes bench/.work/provider-call-<provider>[-<label>].json (git-ignored) and prints a line per
 * level. To compare with other code (e.g. before a change) without touching the work tree, copy
 * libs/llm/src elsewhere (with a node_modules symlink to the repo's) and set
 * BENCH_LLM_MODULE=<copy>/index.ts; run the two alternately, the machine is shared.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getEventListeners } from 'node:events';
import type * as Llm from '@sps/llm';
import { benchProvider } from './lib/llm-provider.js';
import { ensureDir, loadAverage, log, WORK_DIR } from './lib/env.js';
import { spawnFakeProvider } from './lib/procs.js';

// BENCH_LLM_MODULE: another copy of libs/llm (e.g. the code before a change) to compare against.
const { ProviderConfig, SchemaCompiler, createRouter } = (await import(
  process.env.BENCH_LLM_MODULE ?? '@sps/llm'
)) as typeof Llm;

const { values: args } = parseArgs({
  options: {
    provider: { type: 'string', default: 'openai' },
    calls: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '1,64' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '500' },
    label: { type: 'string' },
  },
});
const providerName = args.provider!;
const calls = Number(args.calls);
const levels = args.concurrency!.split(',').map(Number);
const rounds = Number(args.rounds);
const warmup = Number(args.warmup);

const warnings = new Map<string, number>();
process.on('warning', (warning) => {
  const key = `${warning.name}: ${warning.message.slice(0, 80)}`;
  warnings.set(key, (warnings.get(key) ?? 0) + 1);
});

const fake = await spawnFakeProvider(0);
const env: Record<string, Record<string, string>> = {
  openai: { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: fake.openaiBaseUrl },
  anthropic: { ANTHROPIC_API_KEY: 'sk-ant-bench', ANTHROPIC_BASE_URL: fake.url },
  gemini: { GEMINI_API_KEY: 'gm-bench', GEMINI_BASE_URL: fake.url },
};
if (!env[providerName]) throw new Error(`--provider: one of ${Object.keys(env).join(', ')}`);
const { provider, schema, system } = benchProvider(
  { ProviderConfig, SchemaCompiler, createRouter },
  { LLM_PROVIDERS: providerName, ...env[providerName] },
  {
    type: 'object',
    properties: { invoice_number: { type: 'string' }, amount: { type: 'number' }, note: { type: 'string' } },
    required: ['invoice_number', 'amount'],
  },
);
let sequence = 0;

/** Most abort listeners left on a request's deadline signal after its call ended (warm-up only). */
let leftoverListeners = 0;

async function oneCall(checkListeners = false): Promise<number> {
  const started = performance.now();
  // As the request processor does: a deadline signal per request.
  const signal = AbortSignal.timeout(30_000);
  await provider.call(
    {
      system,
      messages: [{ role: 'user', content: `Invoice #${++sequence} for $1,250.00` }],
      schema,
      schemaName: 'response',
      temperature: 0.1,
      maxTokens: 500,
      signal,
    },
    () => {},
  );
  const latency = performance.now() - started;
  if (checkListeners)
    leftoverListeners = Math.max(leftoverListeners, getEventListeners(signal, 'abort').length);
  return latency;
}

async function run(total: number, concurrency: number, checkListeners = false) {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        try {
          latencies.push(await oneCall(checkListeners));
        } catch (error) {
          errors += 1;
          if (errors <= 3) log(`call failed: ${(error as Error).message}`);
        }
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    cpuUsPerCall: (cpu.user + cpu.system) / total,
    userUsPerCall: cpu.user / total,
    systemUsPerCall: cpu.system / total,
    callsPerSecond: (total / wallMs) * 1000,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results: Record<string, unknown>[] = [];
const loadAtStart = loadAverage();
try {
  for (const concurrency of levels) {
    await run(warmup, concurrency, true);
    const runs = [];
    for (let round = 0; round < rounds; round++) runs.push(await run(calls, concurrency));
    const summary = {
      concurrency,
      calls,
      cpuUsPerCall: median(runs.map((r) => r.cpuUsPerCall)),
      userUsPerCall: median(runs.map((r) => r.userUsPerCall)),
      systemUsPerCall: median(runs.map((r) => r.systemUsPerCall)),
      callsPerSecond: median(runs.map((r) => r.callsPerSecond)),
      p50Ms: median(runs.map((r) => r.p50Ms)),
      p99Ms: median(runs.map((r) => r.p99Ms)),
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
      rounds: runs,
    };
    results.push(summary);
    log(
      `${providerName} c=${concurrency}: ${summary.cpuUsPerCall.toFixed(0)} µs CPU/call ` +
        `(user ${summary.userUsPerCall.toFixed(0)}, system ${summary.systemUsPerCall.toFixed(0)}), ` +
        `${summary.callsPerSecond.toFixed(0)} calls/s, p50 ${summary.p50Ms.toFixed(2)} ms, ` +
        `p99 ${summary.p99Ms.toFixed(2)} ms, errors ${summary.errors}`,
    );
  }
} finally {
  await provider.model.close?.();
  await fake.stop();
}
const output = {
  provider: providerName,
  node: process.version,
  at: new Date().toISOString(),
  loadAverage: { start: loadAtStart, end: loadAverage() },
  results,
  leftoverAbortListenersPerDeadlineSignal: leftoverListeners,
  warnings: Object.fromEntries(warnings),
};
const file = join(
  ensureDir(WORK_DIR),
  `provider-call-${providerName}${args.label ? `-${args.label}` : ''}.json`,
);
writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`);
log(
  `abort listeners left on a deadline signal after its call: ${leftoverListeners}; ` +
    `warnings: ${JSON.stringify(output.warnings)}; written to ${file}`,
);
