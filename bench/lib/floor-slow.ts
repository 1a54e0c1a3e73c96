// The floor of bench:slow: the same fake provider (1 s), the same bound of calls in flight and the
// same number of calls as the processor's run, made by a closed loop in the benchmark's own process
// (idle otherwise) with nothing of the pipeline around them:
//  - `transport`: undici.request over an Agent with one connection per call in flight, the bytes
//    read and dropped: what the fake provider and the loopback allow;
//  - `sdk`: libs/llm's provider call as the processor makes it (createRouter → ResilientProvider →
//    the OpenAI SDK over libs/llm's transport), without Kafka, the cache or validation.
// Each is measured as the processor is: completions per second between 10 % and 90 % of the calls.
import { ProviderConfig, SchemaCompiler, createRouter } from '@sps/llm';
import { Agent, request } from 'undici';
import { benchProvider } from './llm-provider.js';
import { chatBody } from './floor-openai.js';
import { invoicePrompt } from './pipeline.js';
import { steadyRate, type Timeline } from './progress.js';
import type { FakeProvider } from './procs.js';

export interface SlowFloorRun {
  variant: 'transport' | 'sdk';
  in_flight: number;
  calls: number;
  steady_per_s: number | null;
  /** steady_per_s / (in_flight / provider latency) */
  efficiency: number | null;
  mean_call_ms: number;
  /** CPU (user + system) of the calling process per call */
  cpu_us_per_call: number;
  failed: number;
}

/** `calls` calls, `inFlight` at a time, each starting the moment one ends; the completions' timeline. */
async function closedLoop(calls: number, inFlight: number, call: (i: number) => Promise<void>) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const timeline: Timeline = [];
  let next = 0;
  let done = 0;
  let failed = 0;
  let callMs = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < calls) {
        const i = next++;
        const t0 = performance.now();
        try {
          await call(i);
        } catch {
          failed += 1;
        }
        const now = performance.now();
        callMs += now - t0;
        timeline.push([(now - started) / 1000, ++done]);
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return { timeline, failed, meanCallMs: callMs / calls, cpuUsPerCall: (cpu.user + cpu.system) / calls };
}

function transportCall(fake: FakeProvider, inFlight: number) {
  const agent = new Agent({ connections: inFlight, pipelining: 1, keepAliveTimeout: 30_000 });
  const url = `${fake.openaiBaseUrl}/chat/completions`;
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-fake' };
  return {
    call: async (i: number) => {
      const body = JSON.stringify(chatBody(invoicePrompt(i)));
      const response = await request(url, { method: 'POST', headers, body, dispatcher: agent });
      await response.body.arrayBuffer();
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    },
    close: () => agent.close(),
  };
}

function sdkCall(fake: FakeProvider, inFlight: number) {
  const { provider, schema, system } = benchProvider(
    { ProviderConfig, SchemaCompiler, createRouter },
    {
      LLM_PROVIDERS: 'openai',
      OPENAI_API_KEY: 'sk-fake',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      LLM_MAX_CONCURRENCY: String(inFlight),
    },
    {
      type: 'object',
      properties: { item: { type: 'string' }, quantity: { type: 'number' } },
      required: ['item'],
    },
  );
  return {
    call: async (i: number) => {
      await provider.call(
        {
          system,
          messages: [{ role: 'user', content: invoicePrompt(i) }],
          schema,
          schemaName: 'response',
          temperature: 0.1,
          maxTokens: 500,
          signal: AbortSignal.timeout(60_000),
        },
        () => {},
      );
    },
    close: () => provider.model.close?.() ?? Promise.resolve(),
  };
}

export async function measureSlowFloor(
  fake: FakeProvider,
  variant: SlowFloorRun['variant'],
  inFlight: number,
  calls: number,
  providerLatencyMs: number,
): Promise<SlowFloorRun> {
  const client = variant === 'transport' ? transportCall(fake, inFlight) : sdkCall(fake, inFlight);
  try {
    const run = await closedLoop(calls, inFlight, client.call);
    const steady = steadyRate(run.timeline, calls);
    const ideal = inFlight / (providerLatencyMs / 1000);
    return {
      variant,
      in_flight: inFlight,
      calls,
      steady_per_s: steady,
      efficiency: steady === null ? null : Math.round((steady / ideal) * 1000) / 1000,
      mean_call_ms: Math.round(run.meanCallMs * 10) / 10,
      cpu_us_per_call: Math.round(run.cpuUsPerCall),
      failed: run.failed,
    };
  } finally {
    await client.close();
  }
}
