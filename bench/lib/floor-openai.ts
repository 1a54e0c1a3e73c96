// The provider-call part of the floor benchmark (bench/floor.ts): one client calling the fake
// provider (libs/testing, its own process) in a loop, through the OpenAI SDK as the processor builds
// it (libs/llm/src/providers/openai/adapter.ts), through the SDK with a pooled undici Agent passed as
// its `fetch`, and without the SDK (Node's fetch, undici's request): latency and this process's CPU
// per call.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch, request as undiciRequest } from 'undici';
import { log, REPO_ROOT } from './env.js';
import { cpuDuring, fmt, nowUs, summariseUs, type LatencySummary } from './floor-stats.js';
import { INVOICE_SCHEMA, invoicePrompt, MODEL } from './pipeline.js';
import type { FakeProvider } from './procs.js';

/** What the processor sends to OpenAI for this schema (the same body as bench:overhead's direct path). */
export function chatBody(prompt: string) {
  const system = [
    'You turn natural-language prompts into structured data.',
    'Extract from the user prompt the data described by the JSON Schema below.',
    'Answer with one JSON value that satisfies this JSON Schema, and nothing else:',
    JSON.stringify(INVOICE_SCHEMA),
  ].join('\n');
  return {
    model: MODEL,
    temperature: 0.1,
    max_completion_tokens: 2048,
    messages: [
      { role: 'system' as const, content: system },
      { role: 'user' as const, content: prompt },
    ],
    response_format: {
      type: 'json_schema' as const,
      json_schema: { name: 'response', schema: INVOICE_SCHEMA as Record<string, unknown>, strict: false },
    },
  };
}

export interface ProviderCallVariant {
  name: string;
  description: string;
  call(i: number): Promise<void>;
}

export interface ProviderCallResult extends LatencySummary {
  variant: string;
  description: string;
  provider_latency_ms: number;
  /** p50 minus the provider's configured latency */
  over_provider_p50_ms: number;
  /** CPU (user + system) of this process per call, over the measured calls */
  cpu_ms_per_call: number;
}

export interface OpenAIFloorResult {
  openai: string | undefined;
  undici: string | undefined;
  node_bundled_undici: string | undefined;
  agent: string;
  warmup: number;
  results: ProviderCallResult[];
}

const AGENT_OPTIONS = {
  connections: 16,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  pipelining: 1,
};

function variants(fake: FakeProvider, agent: Agent): ProviderCallVariant[] {
  const url = `${fake.openaiBaseUrl}/chat/completions`;
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-fake' };
  const expect = (text: string) => {
    if (!text.includes('invoice_number'))
      throw new Error(`answer without the schema's fields: ${text.slice(0, 300)}`);
  };
  const sdk = (options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
    new OpenAI({
      apiKey: 'sk-fake',
      baseURL: fake.openaiBaseUrl,
      maxRetries: 0,
      timeout: 60_000,
      ...options,
    });
  const sdkCall = (client: OpenAI) => async (i: number) => {
    const completion = await client.chat.completions.create(chatBody(invoicePrompt(i)));
    expect(completion.choices[0]?.message.content ?? '');
  };
  const pooledFetch = ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as string, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher: agent,
    })) as unknown as typeof fetch;
  return [
    {
      name: 'sdk-default',
      description:
        "OpenAI SDK as the processor builds it (maxRetries 0, timeout 60 s), default fetch = Node's global fetch (bundled undici, global dispatcher)",
      call: sdkCall(sdk()),
    },
    {
      name: 'sdk-undici-agent',
      description: `OpenAI SDK with fetch: (url, init) => undici.fetch(url, { ...init, dispatcher }) (undici from npm; Agent ${JSON.stringify(AGENT_OPTIONS)})`,
      call: sdkCall(sdk({ fetch: pooledFetch })),
    },
    {
      name: 'sdk-default-signal',
      description:
        "as sdk-default, with an AbortSignal per call that is aborted once the call completed, as the processor's cockatiel TimeoutPolicy does (libs/llm passes its signal to the SDK)",
      call: (() => {
        const client = sdk();
        return async (i: number) => {
          const controller = new AbortController();
          try {
            const completion = await client.chat.completions.create(chatBody(invoicePrompt(i)), {
              signal: controller.signal,
            });
            expect(completion.choices[0]?.message.content ?? '');
          } finally {
            controller.abort();
          }
        };
      })(),
    },
    {
      name: 'undici-fetch',
      description:
        'no SDK: undici.fetch (npm) through the same pooled Agent, POST of the same JSON body, response.text()',
      call: async (i) => {
        const response = await undiciFetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify(chatBody(invoicePrompt(i))),
          dispatcher: agent,
        });
        expect(await response.text());
      },
    },
    {
      name: 'global-fetch',
      description: "no SDK: Node's global fetch, POST of the same JSON body, response.text()",
      call: async (i) => {
        const response = await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify(chatBody(invoicePrompt(i))),
        });
        expect(await response.text());
      },
    },
    {
      name: 'undici-request',
      description: 'no SDK: undici.request (npm) through the same pooled Agent, body.text()',
      call: async (i) => {
        const response = await undiciRequest(url, {
          method: 'POST',
          headers,
          body: JSON.stringify(chatBody(invoicePrompt(i))),
          dispatcher: agent,
        });
        expect(await response.body.text());
      },
    },
  ];
}

const version = (name: string) => {
  try {
    return (
      JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return undefined;
  }
};

export async function measureOpenAIFloor(
  fake: FakeProvider,
  options: { latencies: { ms: number; calls: number }[]; warmup: number; rounds: number },
): Promise<OpenAIFloorResult> {
  const agent = new Agent(AGENT_OPTIONS);
  const results: ProviderCallResult[] = [];
  try {
    for (const { ms, calls } of options.latencies) {
      await fake.setLatency(ms);
      const list = variants(fake, agent);
      for (const variant of list) for (let i = 0; i < options.warmup; i++) await variant.call(-1 - i);
      // interleaved rounds: drift in the machine's load (and GC debt) falls on every variant alike
      const samples = new Map(list.map((variant) => [variant.name, [] as number[]]));
      const cpuMs = new Map(list.map((variant) => [variant.name, 0]));
      const perRound = Math.ceil(calls / options.rounds);
      for (let round = 0; round < options.rounds; round++) {
        for (const variant of list) {
          const own = samples.get(variant.name)!;
          const { cpu_ms } = await cpuDuring(async () => {
            for (let i = 0; i < perRound; i++) {
              const t0 = nowUs();
              await variant.call(round * perRound + i);
              own.push(nowUs() - t0);
            }
          });
          cpuMs.set(variant.name, cpuMs.get(variant.name)! + cpu_ms);
        }
      }
      for (const variant of list) {
        const own = samples.get(variant.name)!;
        const summary = summariseUs(own);
        const result: ProviderCallResult = {
          variant: variant.name,
          description: variant.description,
          provider_latency_ms: ms,
          ...summary,
          over_provider_p50_ms: Math.round((summary.p50_ms - ms) * 1000) / 1000,
          cpu_ms_per_call: Math.round((cpuMs.get(variant.name)! / own.length) * 1000) / 1000,
        };
        results.push(result);
        log(
          `provider ${ms} ms, ${variant.name.padEnd(18)} ${fmt(summary)}; cpu ${result.cpu_ms_per_call} ms/call`,
        );
      }
      await fake.reset();
    }
  } finally {
    await agent.close();
  }
  return {
    openai: version('openai'),
    undici: version('undici'),
    node_bundled_undici: process.versions.undici,
    agent: JSON.stringify(AGENT_OPTIONS),
    warmup: options.warmup,
    results,
  };
}
