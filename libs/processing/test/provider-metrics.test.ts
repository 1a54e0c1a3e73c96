import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  DEFAULT_PRICES,
  DEFAULT_RESILIENCE,
  ProviderError,
  ProviderRouter,
  ResilientProvider,
  type GenerateRequest,
  type LanguageModel,
} from '@sps/llm';
import { ProcessorMetrics } from '../src/processor-metrics.js';

function model(fail: () => boolean): LanguageModel {
  return {
    provider: 'openai',
    model: 'gpt-4o-mini',
    transformSchema: () => ({ providerSchema: undefined, restore: (x) => x, notes: [] }),
    async generate() {
      if (fail()) throw new ProviderError('server_error', 'HTTP 500', 'openai', 500);
      return { text: '{}', tokensIn: 1_000_000, tokensOut: 0, model: 'gpt-4o-mini', finishReason: 'stop' };
    },
  };
}

const request = { signal: new AbortController().signal } as GenerateRequest;

describe('provider metrics (ProcessorMetrics given the router)', () => {
  it('times and prices every call, and reports the breaker and calls in flight per provider', async () => {
    let failing = false;
    const provider = new ResilientProvider(
      model(() => failing),
      {
        ...DEFAULT_RESILIENCE,
        maxRetries: 0,
        breakerThreshold: 2,
      },
    );
    const registry = new Registry();
    new ProcessorMetrics(registry, {
      router: new ProviderRouter([provider], DEFAULT_PRICES),
      prices: DEFAULT_PRICES,
    });
    const seen: unknown[] = [];
    await provider.call(request, (outcome) => seen.push(outcome));
    failing = true;
    for (let i = 0; i < 2; i++)
      await provider.call(request, (outcome) => seen.push(outcome)).catch(() => undefined);
    expect(seen).toHaveLength(3); // the engine's own callback still sees every call
    const text = await registry.metrics();
    expect(text).toContain('sps_llm_call_duration_seconds_count{provider="openai",outcome="ok"} 1');
    expect(text).toContain('sps_llm_call_duration_seconds_count{provider="openai",outcome="server_error"} 2');
    expect(text).toContain('sps_llm_cost_usd_total{provider="openai",model="gpt-4o-mini"} 0.15'); // 1M input tokens
    expect(text).toContain('sps_llm_circuit_open{provider="openai"} 1');
    expect(text).toContain('sps_llm_calls_in_flight{provider="openai"} 0');
  });
});
