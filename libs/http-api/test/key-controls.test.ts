import { describe, expect, it } from 'vitest';
import { NO_KEY_CONTROLS, type KeyControls, type KeyUsage } from '@sps/db';
import {
  allowedOptions,
  budgetExceeded,
  budgetWindows,
  hasBudget,
  spentBudget,
} from '../src/key-controls.js';

const controls = (overrides: Partial<KeyControls>): KeyControls => ({ ...NO_KEY_CONTROLS, ...overrides });
const usage = (overrides: Partial<KeyUsage> = {}): KeyUsage => ({
  dayTokens: 0,
  dayCostUsd: 0,
  monthTokens: 0,
  monthCostUsd: 0,
  ...overrides,
});

describe('budget windows (UTC)', () => {
  it('spans the UTC day and month of the instant', () => {
    const w = budgetWindows(new Date('2025-03-14T15:09:26.535Z'));
    expect(w.dayStart.toISOString()).toBe('2025-03-14T00:00:00.000Z');
    expect(w.dayEnd.toISOString()).toBe('2025-03-15T00:00:00.000Z');
    expect(w.monthStart.toISOString()).toBe('2025-03-01T00:00:00.000Z');
    expect(w.monthEnd.toISOString()).toBe('2025-04-01T00:00:00.000Z');
  });

  it('carries over the ends of months, leap Februaries and years', () => {
    const endOfYear = budgetWindows(new Date('2025-12-31T23:59:59.999Z'));
    expect(endOfYear.dayEnd.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(endOfYear.monthEnd.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    const leap = budgetWindows(new Date('2024-02-29T12:00:00Z'));
    expect(leap.dayEnd.toISOString()).toBe('2024-03-01T00:00:00.000Z');
    expect(leap.monthStart.toISOString()).toBe('2024-02-01T00:00:00.000Z');
    expect(budgetWindows(new Date('2025-01-31T08:00:00Z')).monthEnd.toISOString()).toBe(
      '2025-02-01T00:00:00.000Z',
    );
  });

  it('is the same whatever the local time zone says (a midnight instant starts its own day)', () => {
    const w = budgetWindows(new Date('2025-06-01T00:00:00.000Z'));
    expect(w.dayStart.toISOString()).toBe('2025-06-01T00:00:00.000Z');
    expect(w.monthStart.toISOString()).toBe('2025-06-01T00:00:00.000Z');
  });
});

describe('spent budgets', () => {
  const windows = budgetWindows(new Date('2025-03-14T15:00:00Z'));

  it('is spent once the usage reaches the budget, not before', () => {
    const daily = controls({ dailyTokenBudget: 1000 });
    expect(spentBudget(daily, usage({ dayTokens: 999 }), windows)).toBeUndefined();
    expect(spentBudget(daily, usage({ dayTokens: 1000 }), windows)).toEqual({
      budget: 'daily_tokens',
      limit: 1000,
      used: 1000,
      resetsAt: windows.dayEnd,
    });
  });

  it('compares each budget with its own window and unit', () => {
    const all = controls({
      dailyTokenBudget: 100,
      monthlyTokenBudget: 1000,
      dailyCostBudgetUsd: 1,
      monthlyCostBudgetUsd: 10,
    });
    expect(
      spentBudget(
        all,
        usage({ dayTokens: 99, monthTokens: 999, dayCostUsd: 0.99, monthCostUsd: 9.99 }),
        windows,
      ),
    ).toBeUndefined();
    expect(spentBudget(all, usage({ dayCostUsd: 1 }), windows)?.budget).toBe('daily_cost_usd');
    expect(spentBudget(all, usage({ monthTokens: 1000 }), windows)?.budget).toBe('monthly_tokens');
  });

  it('names the budget that keeps the key out longest: a month over a day', () => {
    const both = controls({ dailyTokenBudget: 100, monthlyCostBudgetUsd: 5 });
    const spent = spentBudget(both, usage({ dayTokens: 500, monthCostUsd: 6 }), windows);
    expect(spent).toMatchObject({ budget: 'monthly_cost_usd', resetsAt: windows.monthEnd });
  });

  it('a zero budget admits nothing; no budget admits anything', () => {
    expect(spentBudget(controls({ dailyTokenBudget: 0 }), usage(), windows)?.budget).toBe('daily_tokens');
    expect(spentBudget(NO_KEY_CONTROLS, usage({ dayTokens: 1e12 }), windows)).toBeUndefined();
    expect(hasBudget(NO_KEY_CONTROLS)).toBe(false);
    expect(hasBudget(undefined)).toBe(false);
    expect(hasBudget(controls({ monthlyCostBudgetUsd: 0 }))).toBe(true);
  });

  it('answers 429 BUDGET_EXCEEDED with the reset and the seconds until it', () => {
    const now = new Date('2025-03-14T23:59:30.200Z');
    const error = budgetExceeded(
      { budget: 'daily_cost_usd', limit: 2.5, used: 2.5000001, resetsAt: budgetWindows(now).dayEnd },
      now,
    );
    expect(error.code).toBe('BUDGET_EXCEEDED');
    expect(error.httpStatus).toBe(429);
    expect(error.details).toEqual({
      budget: 'daily_cost_usd',
      limit: 2.5,
      used: 2.5,
      resets_at: '2025-03-15T00:00:00.000Z',
      retry_after_seconds: 30,
    });
    expect(error.message).toContain('daily cost (USD) budget of 2.5');
  });
});

describe('allowlists', () => {
  const restricted = controls({
    allowedProviders: ['openai', 'anthropic'],
    allowedModels: ['gpt-4o-mini', 'gpt-4.1-mini'],
  });

  it('lets anything through a key without allowlists, options untouched', () => {
    const options = { model: 'gpt-4o', provider: 'gemini' };
    expect(allowedOptions(NO_KEY_CONTROLS, options)).toBe(options);
    expect(allowedOptions(undefined, undefined)).toBeUndefined();
  });

  it('keeps options within the allowlists as they are', () => {
    expect(
      allowedOptions(restricted, { provider: 'anthropic', model: 'gpt-4.1-mini', temperature: 0.5 }),
    ).toEqual({
      provider: 'anthropic',
      model: 'gpt-4.1-mini',
      temperature: 0.5,
    });
  });

  it('sets the first allowed provider and model when the request names none', () => {
    expect(allowedOptions(restricted, undefined)).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(allowedOptions(controls({ allowedModels: ['m1'] }), { cache_ttl: 60 })).toEqual({
      cache_ttl: 60,
      model: 'm1',
    });
  });

  it('refuses with 403 FORBIDDEN naming each option outside them (exact names)', () => {
    const refuse = (options: Record<string, unknown>, field?: string) => {
      try {
        allowedOptions(restricted, options, field);
      } catch (error) {
        return error as { code: string; httpStatus: number; details: { fields: unknown[] }; message: string };
      }
      throw new Error('admitted');
    };
    const model = refuse({ model: 'gpt-4o' });
    expect(model.code).toBe('FORBIDDEN');
    expect(model.httpStatus).toBe(403);
    expect(model.details.fields).toEqual([
      { field: 'options.model', reason: 'not allowed for this key; allowed: gpt-4o-mini, gpt-4.1-mini' },
    ]);
    expect(model.message).toBe('options.model: not allowed for this key; allowed: gpt-4o-mini, gpt-4.1-mini');
    expect(refuse({ model: 'GPT-4O-MINI' }).details.fields).toHaveLength(1);
    expect(refuse({ model: 'gpt-4o-mini-2024-07-18' }).details.fields).toHaveLength(1);
    const both = refuse({ provider: 'gemini', model: 'gemini-2.5-pro' }, 'request_params.options');
    expect(both.details.fields).toEqual([
      {
        field: 'request_params.options.provider',
        reason: 'not allowed for this key; allowed: openai, anthropic',
      },
      {
        field: 'request_params.options.model',
        reason: 'not allowed for this key; allowed: gpt-4o-mini, gpt-4.1-mini',
      },
    ]);
  });
});
