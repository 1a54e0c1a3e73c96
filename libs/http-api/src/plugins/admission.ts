import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PromptOptions } from '@sps/contracts';
import { keyUsage, type Database, type KeyUsage } from '@sps/db';
import {
  allowedOptions,
  budgetExceeded,
  budgetWindows,
  hasBudget,
  hasMonthlyBudget,
  spentBudget,
} from '../key-controls.js';

type Options = Partial<PromptOptions>;

export interface AdmissionRequest {
  /** Prompts the request queues: its rate-limit points. */
  prompts: number;
  options?: Options;
  /** Where the options sit in the body, for error details (`options`, `request_params.options`). */
  field?: string;
}

export interface Admission {
  /**
   * Admits a request that queues prompts, in the key's name: its options within the key's
   * allowlists (403 FORBIDDEN), its daily and monthly budgets not spent (429 BUDGET_EXCEEDED),
   * then its prompts charged to the hourly rate limit (429 RATE_LIMIT_EXCEEDED). Returns the
   * options to send (the key's first allowed provider/model set where the request names none).
   */
  admit(request: FastifyRequest, reply: FastifyReply, what: AdmissionRequest): Promise<Options | undefined>;
  /**
   * `admit` in two steps, for a call that overlaps its admission with its own work (a sync call's
   * cache lookup): the options at once (403 thrown here), the rest (the arrival charge of a route
   * that defers it, budgets, the rate limit) as `admitted`. Nothing may be queued or answered
   * before `admitted` resolves.
   */
  begin(
    request: FastifyRequest,
    reply: FastifyReply,
    what: AdmissionRequest,
  ): { options: Options | undefined; admitted: Promise<void> };
  /** Gives back the prompt points charged beyond the request's own (e.g. a job resubmitted, queued before). */
  refund(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    admission: Admission;
  }
}

interface UsageEntry {
  at: number;
  dayStart: number;
  monthly: boolean;
  usage: Promise<KeyUsage>;
}

/**
 * The one place where requests that queue prompts are admitted (analyze, batch, jobs call it from
 * their handlers). Registered after authentication and the rate limit. A key's usage is looked up
 * only when it has a budget, then kept `usageCacheMs` per key (one query per key and window, shared
 * by a burst); a lookup that fails is decided on the last usage read the same day, or else admitted (and warned
 * about): budgets are a cost control, not worth an outage of their own.
 */
export const admission = fp<{ db: Database; usageCacheMs?: number; now?: () => Date }>(
  async (app, { db, usageCacheMs = 5_000, now = () => new Date() }) => {
    if (!app.hasDecorator('rateLimiter')) throw new Error('register the rate limit before admission');
    const usages = new Map<string, UsageEntry>();
    /** The last usage read per key, with the day it was read for: a fallback within that day only. */
    const lastKnown = new Map<string, { dayStart: number; monthly: boolean; usage: KeyUsage }>();

    async function usageOf(
      apiKeyId: string,
      dayStart: Date,
      monthStart: Date | undefined,
    ): Promise<KeyUsage> {
      const at = Date.now();
      const cached = usages.get(apiKeyId);
      if (
        cached &&
        at - cached.at < usageCacheMs &&
        cached.dayStart === dayStart.getTime() &&
        cached.monthly === Boolean(monthStart)
      )
        return cached.usage;
      const usage = keyUsage(db, apiKeyId, { dayStart, monthStart }).then((value) => {
        if (lastKnown.size > 10_000) lastKnown.clear();
        lastKnown.set(apiKeyId, { dayStart: dayStart.getTime(), monthly: Boolean(monthStart), usage: value });
        return value;
      });
      if (usages.size > 10_000) usages.clear();
      usages.set(apiKeyId, { at, dayStart: dayStart.getTime(), monthly: Boolean(monthStart), usage });
      usage.catch(() => usages.get(apiKeyId)?.usage === usage && usages.delete(apiKeyId));
      return usage;
    }

    async function admitted(request: FastifyRequest, reply: FastifyReply, what: AdmissionRequest) {
      const { controls } = request.principal;
      // A route that defers its arrival charge (see the rate limit) settles it here, first.
      await request.arrivalCharge;
      if (hasBudget(controls)) {
        const at = now();
        const windows = budgetWindows(at);
        const monthStart = hasMonthlyBudget(controls) ? windows.monthStart : undefined;
        let usage: KeyUsage | undefined;
        try {
          usage = await usageOf(request.principal.apiKeyId, windows.dayStart, monthStart);
        } catch (error) {
          const known = lastKnown.get(request.principal.apiKeyId);
          if (known?.dayStart === windows.dayStart.getTime() && known.monthly === Boolean(monthStart))
            usage = known.usage;
          request.log.warn(
            { err: error, api_key_id: request.principal.apiKeyId, last_known: Boolean(usage) },
            'key usage not read: budgets checked against the last usage known, if any',
          );
        }
        const spent = usage && spentBudget(controls, usage, windows);
        if (spent) {
          const refusal = budgetExceeded(spent, at);
          reply.header('retry-after', refusal.details?.retry_after_seconds);
          throw refusal;
        }
      }
      // The request's own point was charged on arrival: it covers its first prompt.
      await app.rateLimiter.charge(request, reply, what.prompts - request.rateLimitPoints, {
        refundable: true,
      });
    }

    const api: Admission = {
      begin(request, reply, what) {
        const options = allowedOptions(request.principal.controls, what.options, what.field);
        return { options, admitted: admitted(request, reply, what) };
      },
      async admit(request, reply, what) {
        const { options, admitted } = api.begin(request, reply, what);
        await admitted;
        return options;
      },
      async refund(request, reply) {
        await app.rateLimiter.refund(request, reply, request.rateLimitPoints - 1);
      },
    };
    app.decorate('admission', api);
  },
);
