import { ServiceError, type PromptOptions } from '@sps/contracts';
import type { KeyControls, KeyUsage } from '@sps/db';

/** The budget windows around `now`: the UTC day and the UTC month it falls in. */
export interface BudgetWindows {
  dayStart: Date;
  dayEnd: Date;
  monthStart: Date;
  monthEnd: Date;
}

export function budgetWindows(now: Date): BudgetWindows {
  const [y, m, d] = [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()];
  return {
    dayStart: new Date(Date.UTC(y, m, d)),
    dayEnd: new Date(Date.UTC(y, m, d + 1)), // Date.UTC carries over month and year ends
    monthStart: new Date(Date.UTC(y, m, 1)),
    monthEnd: new Date(Date.UTC(y, m + 1, 1)),
  };
}

export type BudgetName = 'daily_tokens' | 'monthly_tokens' | 'daily_cost_usd' | 'monthly_cost_usd';

export interface SpentBudget {
  budget: BudgetName;
  limit: number;
  used: number;
  resetsAt: Date;
}

/** Whether the key has any budget (else its usage is never looked up). */
export function hasBudget(controls: KeyControls | undefined): controls is KeyControls {
  return Boolean(
    controls &&
    (controls.dailyTokenBudget !== null ||
      controls.monthlyTokenBudget !== null ||
      controls.dailyCostBudgetUsd !== null ||
      controls.monthlyCostBudgetUsd !== null),
  );
}

export function hasMonthlyBudget(controls: KeyControls): boolean {
  return controls.monthlyTokenBudget !== null || controls.monthlyCostBudgetUsd !== null;
}

/**
 * The spent budget that keeps the key out longest (a month's over a day's), or undefined. A budget
 * is spent once the recorded usage reaches it: the request that crosses it is still admitted, since
 * what a request will use is known only once it has run.
 */
export function spentBudget(
  controls: KeyControls,
  usage: KeyUsage,
  windows: BudgetWindows,
): SpentBudget | undefined {
  const candidates: [BudgetName, number | null, number, Date][] = [
    ['monthly_cost_usd', controls.monthlyCostBudgetUsd, usage.monthCostUsd, windows.monthEnd],
    ['monthly_tokens', controls.monthlyTokenBudget, usage.monthTokens, windows.monthEnd],
    ['daily_cost_usd', controls.dailyCostBudgetUsd, usage.dayCostUsd, windows.dayEnd],
    ['daily_tokens', controls.dailyTokenBudget, usage.dayTokens, windows.dayEnd],
  ];
  for (const [budget, limit, used, resetsAt] of candidates) {
    if (limit !== null && used >= limit) return { budget, limit, used, resetsAt };
  }
  return undefined;
}

/** The 429 for a spent budget, with the seconds until its reset (for Retry-After). */
export function budgetExceeded(spent: SpentBudget, now: Date): ServiceError {
  const retryAfter = Math.max(1, Math.ceil((spent.resetsAt.getTime() - now.getTime()) / 1000));
  const what = spent.budget.replace('_', ' ').replace('cost_usd', 'cost (USD)');
  return new ServiceError(
    'BUDGET_EXCEEDED',
    `the key's ${what} budget of ${spent.limit} is spent (used ${round(spent.used)}); ` +
      `it resets at ${spent.resetsAt.toISOString()}`,
    {
      budget: spent.budget,
      limit: spent.limit,
      used: round(spent.used),
      resets_at: spent.resetsAt.toISOString(),
      retry_after_seconds: retryAfter,
    },
  );
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;

type Options = Partial<PromptOptions>;

/**
 * The options a request runs with under the key's allowlists, or FORBIDDEN naming each option
 * outside them. A key that restricts providers (models) and a request that names none: the first
 * allowed provider (model) is set, so the provider is only ever asked for what the key may use —
 * the API does not know the processor's configured defaults, and could not vouch for them.
 */
export function allowedOptions(
  controls: KeyControls | undefined,
  options: Options | undefined,
  field = 'options',
): Options | undefined {
  if (!controls || (controls.allowedProviders === null && controls.allowedModels === null)) return options;
  const fields: { field: string; reason: string }[] = [];
  const pinned: Options = {};
  const check = (option: 'provider' | 'model', allowed: string[] | null) => {
    if (allowed === null) return;
    const asked = options?.[option];
    if (asked === undefined) pinned[option] = allowed[0];
    else if (!allowed.includes(asked))
      fields.push({
        field: `${field}.${option}`,
        reason: `not allowed for this key; allowed: ${allowed.join(', ')}`,
      });
  };
  check('provider', controls.allowedProviders);
  check('model', controls.allowedModels);
  if (fields.length > 0) {
    throw new ServiceError('FORBIDDEN', fields.map((f) => `${f.field}: ${f.reason}`).join('; '), { fields });
  }
  return { ...options, ...pinned };
}
