/** USD per million tokens, input and output. A model without a price is flagged, never taken as free. */
export type PriceTable = Record<string, { input: number; output: number }>;

// List prices at the time of writing; override with LLM_PRICES (JSON of the same shape).
export const DEFAULT_PRICES: PriceTable = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.5-pro': { input: 1.25, output: 10 },
};

/** The model's price, also under its undated name (`gpt-4o-2024-08-06` is priced as `gpt-4o`). */
export function priceOf(prices: PriceTable, model: string): { input: number; output: number } | undefined {
  return prices[model] ?? prices[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
}

/** The cost of a call; 0 for a model without a price (use priceCall to have that flagged). */
export function costUsd(prices: PriceTable, model: string, tokensIn: number, tokensOut: number): number {
  const price = priceOf(prices, model);
  if (!price) return 0;
  return Math.round(((tokensIn * price.input + tokensOut * price.output) / 1e6) * 1e6) / 1e6;
}

/** Price of a typical call (1k in, 500 out), to order providers by cost. */
export function typicalCost(prices: PriceTable, model: string): number {
  return costUsd(prices, model, 1000, 500);
}

/** What an attempt record carries about its price. */
export interface PricedCall {
  cost_usd: number;
  /** Present (true) when the model has no price: cost_usd 0 then means unknown, not free. */
  unpriced?: true;
}

/** Distinct provider/model pairs tallied; past this, further unpriced models count under `other`. */
const MAX_UNPRICED_MODELS = 100;
const unpricedCalls = new Map<string, { provider: string; model: string; calls: number }>();

export interface UnpricedCallCount {
  provider: string;
  model: string;
  calls: number;
}

/**
 * The cost of one provider call for its attempt record. A model without a price is flagged
 * (`unpriced: true`), tallied per provider and model for the `sps_llm_unpriced_calls_total`
 * counter, and warned about once per model (process warning SPS_UNPRICED_MODEL).
 */
export function priceCall(
  prices: PriceTable,
  provider: string,
  model: string,
  tokensIn: number,
  tokensOut: number,
): PricedCall {
  if (priceOf(prices, model)) return { cost_usd: costUsd(prices, model, tokensIn, tokensOut) };
  noteUnpriced(provider, model);
  return { cost_usd: 0, unpriced: true };
}

/** Calls of models without a price since the process started, per provider and model. */
export function unpricedCallCounts(): UnpricedCallCount[] {
  return [...unpricedCalls.values()].map((entry) => ({ ...entry }));
}

function noteUnpriced(provider: string, model: string): void {
  const key = JSON.stringify([provider, model]);
  let entry = unpricedCalls.get(key);
  if (!entry) {
    if (unpricedCalls.size >= MAX_UNPRICED_MODELS) {
      const other = JSON.stringify([provider, 'other']);
      entry = unpricedCalls.get(other) ?? { provider, model: 'other', calls: 0 };
      unpricedCalls.set(other, entry);
    } else {
      entry = { provider, model, calls: 0 };
      unpricedCalls.set(key, entry);
      process.emitWarning(
        `model '${model}' of provider '${provider}' has no price: its calls are recorded with cost_usd 0 ` +
          `and unpriced: true, and count in sps_llm_unpriced_calls_total; add it to LLM_PRICES`,
        { code: 'SPS_UNPRICED_MODEL' },
      );
    }
  }
  entry.calls++;
}
