import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ServiceError } from '@sps/contracts';

const WINDOW_SECONDS = 3600;

declare module 'fastify' {
  interface FastifyInstance {
    rateLimiter: KeyRateLimiter;
  }
  interface FastifyRequest {
    /** Points this request has been charged so far (1 once authenticated; prompts once admitted). */
    rateLimitPoints: number;
    /** The arrival charge of a route that defers it (`deferArrivalCharge`), settled by its admission. */
    arrivalCharge: Promise<void> | null;
  }
  interface FastifyContextConfig {
    /**
     * The route admits every request (the admission plugin) before it queues or answers anything,
     * and its admission settles the arrival charge: the charge's Redis round trip then overlaps the
     * body's validation and the route's own lookups instead of preceding them.
     */
    deferArrivalCharge?: boolean;
  }
}

/**
 * Per-key hourly limit (the key's `rate_limit_per_hour`) counted in Redis with
 * rate-limiter-flexible, so every API instance shares the count. While Redis is down an
 * in-memory limiter per instance takes over: limits loosen, requests keep flowing.
 *
 * Every request is charged one point on arrival; a request that carries N prompts (analyze,
 * batch, jobs) is charged up to N in all once admitted (see the admission plugin).
 */
export class KeyRateLimiter {
  private readonly limiters = new Map<number, RateLimiterRedis>();
  /** Arrivals waiting for this iteration's charge, per limit and key. */
  private readonly arrivals = new Map<string, ArrivalBatch>();
  private arrivalsScheduled = false;

  constructor(private readonly redis: Redis) {
    // rate-limiter-flexible defines its Lua command (`rlflxIncr`) on the connection when a limiter
    // is built, and an auto-pipeline that was opened before (a cache GET of the same tick) lacks
    // it: the charge then throws inside ioredis, whose pipeline callback crashes the process
    // ("results[i] is not iterable", ioredis#1931). Built once here, before any command, the
    // command exists on every pipeline; the limiters made later per limit reuse it.
    this.limiterFor(1);
  }

  /**
   * Charges `points` more to the request's key. Over the limit: 429 with Retry-After. A request's
   * first point stays charged when it is refused (as every refused request's); points charged
   * beyond it (`refundable`) are given back, so a refused batch does not spend the hour.
   */
  async charge(
    request: FastifyRequest,
    reply: FastifyReply,
    points: number,
    { refundable = false }: { refundable?: boolean } = {},
  ): Promise<void> {
    if (points <= 0) return;
    const limit = request.principal.rateLimitPerHour;
    const key = request.principal.apiKeyId;
    const limiter = this.limiterFor(limit);
    if (refundable && request.rateLimitPoints + points > limit) {
      // More than the key may ever send in an hour: no wait makes it fit, so no Retry-After.
      const state = await limiter.get(key);
      if (state) setHeaders(reply, limit, state);
      throw new ServiceError(
        'RATE_LIMIT_EXCEEDED',
        `this request counts ${request.rateLimitPoints + points} prompts, more than the key's limit of ` +
          `${limit} per hour; send fewer prompts per request`,
        { limit, requested: request.rateLimitPoints + points },
      );
    }
    try {
      const state = await limiter.consume(key, points);
      request.rateLimitPoints += points;
      setHeaders(reply, limit, state);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      if (!refundable) throw exceeded(reply, limit, rejection);
      await limiter.reward(key, points);
      const remaining = Math.max(0, limit - (rejection.consumedPoints - points));
      setHeaders(reply, limit, rejection, remaining);
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      reply.header('retry-after', retryAfter);
      const requested = request.rateLimitPoints + points;
      throw new ServiceError(
        'RATE_LIMIT_EXCEEDED',
        `rate limit of ${limit} prompts per hour: this request carries ${requested} and ${remaining} ` +
          `are left; retry in ${retryAfter} s`,
        { limit, remaining, requested, retry_after_seconds: retryAfter },
      );
    }
  }

  /**
   * The point every request is charged on arrival (as `charge(request, reply, 1)`). The arrivals of
   * one key within an event-loop iteration are charged together, in one Redis call, and each is
   * answered as if charged alone, in order: of n arrivals taking the count to `total`, the i-th
   * (from 0) is answered as if its own charge had taken it to `total - n + i + 1`. At load this is
   * one call per key and iteration instead of one per request.
   */
  chargeArrival(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const limit = request.principal.rateLimitPerHour;
    const key = request.principal.apiKeyId;
    const batchKey = `${limit}:${key}`;
    return new Promise((resolve, reject) => {
      let batch = this.arrivals.get(batchKey);
      if (!batch) {
        batch = { limit, key, arrivals: [] };
        this.arrivals.set(batchKey, batch);
      }
      batch.arrivals.push({ request, reply, resolve, reject });
      if (!this.arrivalsScheduled) {
        this.arrivalsScheduled = true;
        setImmediate(() => this.chargeArrivals());
      }
    });
  }

  private chargeArrivals(): void {
    this.arrivalsScheduled = false;
    const batches = [...this.arrivals.values()];
    this.arrivals.clear();
    for (const batch of batches) void this.chargeBatch(batch);
  }

  private async chargeBatch({ limit, key, arrivals }: ArrivalBatch): Promise<void> {
    let state: RateLimiterRes;
    try {
      state = await this.limiterFor(limit).consume(key, arrivals.length);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        for (const arrival of arrivals) arrival.reject(rejection);
        return;
      }
      state = rejection; // over the limit: those charged before it was reached still pass
    }
    const before = state.consumedPoints - arrivals.length;
    arrivals.forEach(({ request, reply, resolve, reject }, i) => {
      const consumed = before + i + 1;
      if (consumed > limit) return reject(exceeded(reply, limit, state));
      request.rateLimitPoints += 1;
      setHeaders(reply, limit, state, limit - consumed);
      resolve();
    });
  }

  /** Gives back `points` charged to the request (work it turned out not to queue). */
  async refund(request: FastifyRequest, reply: FastifyReply, points: number): Promise<void> {
    const given = Math.min(points, request.rateLimitPoints);
    if (given <= 0) return;
    const limit = request.principal.rateLimitPerHour;
    const state = await this.limiterFor(limit).reward(request.principal.apiKeyId, given);
    request.rateLimitPoints -= given;
    setHeaders(reply, limit, state);
  }

  private limiterFor(points: number): RateLimiterRedis {
    let limiter = this.limiters.get(points);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        useRedisPackage: false,
        keyPrefix: `sps:rl:${points}`,
        points,
        duration: WINDOW_SECONDS,
        insuranceLimiter: new RateLimiterMemory({
          points,
          duration: WINDOW_SECONDS,
          keyPrefix: `sps:rl-mem:${points}`,
        }),
      });
      this.limiters.set(points, limiter);
    }
    return limiter;
  }
}

export const rateLimit = fp<{ redis: Redis }>(async (app, { redis }) => {
  const limiter = new KeyRateLimiter(redis);
  app.decorate('rateLimiter', limiter);
  app.decorateRequest('rateLimitPoints', 0);
  app.decorateRequest('arrivalCharge', null);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.principal) return; // unknown route
    const charge = limiter.chargeArrival(request, reply);
    if (!request.routeOptions.config.deferArrivalCharge) return charge;
    request.arrivalCharge = charge;
    charge.catch(() => undefined); // its refusal is the admission's to answer
  });
  // Whatever answers a deferred request (a 400 before its handler ran too) waits for its charge,
  // so that every answer carries the RateLimit headers of its own point.
  // A callback hook: the other routes pass straight through, without a promise per answer.
  app.addHook('onSend', (request, _reply, payload, done) => {
    const charge = request.arrivalCharge;
    if (!charge) return done(null, payload);
    const settled = () => done(null, payload);
    void charge.then(settled, settled);
  });
});

interface ArrivalBatch {
  limit: number;
  key: string;
  arrivals: {
    request: FastifyRequest;
    reply: FastifyReply;
    resolve: () => void;
    reject: (error: unknown) => void;
  }[];
}

/** The 429 of a request refused its point: Retry-After and the RateLimit headers set on `reply`. */
function exceeded(reply: FastifyReply, limit: number, state: RateLimiterRes): ServiceError {
  setHeaders(reply, limit, state, 0);
  const retryAfter = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  reply.header('retry-after', retryAfter);
  return new ServiceError(
    'RATE_LIMIT_EXCEEDED',
    `rate limit of ${limit} requests per hour exceeded; retry in ${retryAfter} s`,
    { limit, retry_after_seconds: retryAfter },
  );
}

/** RateLimit-* (IETF draft) and their X-RateLimit-* aliases, which many clients read. */
function setHeaders(reply: FastifyReply, limit: number, state: RateLimiterRes, remaining?: number): void {
  const left = Math.max(0, remaining ?? state.remainingPoints);
  const reset = Math.ceil(state.msBeforeNext / 1000);
  for (const prefix of ['ratelimit', 'x-ratelimit']) {
    reply.header(`${prefix}-limit`, limit);
    reply.header(`${prefix}-remaining`, left);
    reply.header(`${prefix}-reset`, reset);
  }
}
