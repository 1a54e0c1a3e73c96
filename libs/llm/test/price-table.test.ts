import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PRICES, costUsd, priceCall, unpricedCallCounts } from '../src/index.js';

describe('pricing an attempt', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prices a known model (and its dated name) without a flag', () => {
    expect(priceCall(DEFAULT_PRICES, 'openai', 'gpt-4o-mini', 1_000_000, 1_000_000)).toEqual({
      cost_usd: 0.75,
    });
    expect(priceCall(DEFAULT_PRICES, 'openai', 'gpt-4o-2024-08-06', 1000, 0)).toEqual({ cost_usd: 0.0025 });
  });

  it('a price of 0 set on purpose (a local model) is known: free, not unpriced', () => {
    expect(priceCall({ 'my-local': { input: 0, output: 0 } }, 'local', 'my-local', 500, 500)).toEqual({
      cost_usd: 0,
    });
  });

  it('flags a model without a price, tallies its calls and warns once per provider and model', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const model = `unknown-${Math.random().toString(36).slice(2)}`;
    const tally = () => unpricedCallCounts().find((c) => c.model === model)?.calls ?? 0;
    expect(priceCall(DEFAULT_PRICES, 'openai', model, 100, 50)).toEqual({ cost_usd: 0, unpriced: true });
    expect(priceCall(DEFAULT_PRICES, 'openai', model, 0, 0)).toEqual({ cost_usd: 0, unpriced: true });
    expect(tally()).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toContain(`model '${model}' of provider 'openai' has no price`);
    expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'SPS_UNPRICED_MODEL' });
    priceCall(DEFAULT_PRICES, 'gemini', model, 1, 1);
    expect(unpricedCallCounts().filter((c) => c.model === model)).toEqual([
      { provider: 'openai', model, calls: 2 },
      { provider: 'gemini', model, calls: 1 },
    ]);
    expect(warn).toHaveBeenCalledTimes(2);
    // costUsd keeps its contract for ranking providers: unknown models rank as 0.
    expect(costUsd(DEFAULT_PRICES, model, 100, 100)).toBe(0);
  });
});
