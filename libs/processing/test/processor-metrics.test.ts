import { describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { DEFAULT_PRICES, priceCall } from '@sps/llm';
import { ProcessorMetrics } from '../src/processor-metrics.js';

describe('processor metrics', () => {
  it('exposes the calls of models without a price as sps_llm_unpriced_calls_total{provider,model}', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const registry = new Registry();
    new ProcessorMetrics(registry);
    priceCall(DEFAULT_PRICES, 'openai', 'gpt-4o-mini', 10, 10); // priced: not counted
    for (let i = 0; i < 3; i++) priceCall(DEFAULT_PRICES, 'openai', 'no-price-metrics-test', 10, 10);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE sps_llm_unpriced_calls_total counter');
    expect(text).toContain('sps_llm_unpriced_calls_total{provider="openai",model="no-price-metrics-test"} 3');
    expect(text).not.toContain('model="gpt-4o-mini"');
    // Read again at each scrape, never added twice.
    priceCall(DEFAULT_PRICES, 'openai', 'no-price-metrics-test', 10, 10);
    expect(await registry.metrics()).toContain(
      'sps_llm_unpriced_calls_total{provider="openai",model="no-price-metrics-test"} 4',
    );
    vi.restoreAllMocks();
  });
});
