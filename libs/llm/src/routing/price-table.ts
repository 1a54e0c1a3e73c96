/** USD per million tokens, input and output. Unknown models cost 0 (and are reported as such). */
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

export function costUsd(prices: PriceTable, model: string, tokensIn: number, tokensOut: number): number {
  const price = prices[model] ?? prices[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
  if (!price) return 0;
  return Math.round(((tokensIn * price.input + tokensOut * price.output) / 1e6) * 1e6) / 1e6;
}

/** Price of a typical call (1k in, 500 out), to order providers by cost. */
export function typicalCost(prices: PriceTable, model: string): number {
  return costUsd(prices, model, 1000, 500);
}
