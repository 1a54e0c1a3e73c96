import { cacheIndexes, type ResponseCache } from '@sps/cache';
import type { PromptRequestMessage, StructuredOutput } from '@sps/contracts';
import { Counter, type Registry } from 'prom-client';

/** What the response cache holds per work key: the validated output, without `cached`. */
export interface CachedAnswer {
  output: Omit<StructuredOutput, 'cached'>;
}

/** Where a lookup happened: in ingest-api before producing, or in the processor. */
export type CacheStage = 'edge' | 'processor';

/** The counter both stages count lookups on (one series per stage and outcome). */
export function cacheLookupCounter(registry: Registry): Counter<'stage' | 'outcome'> {
  const existing = registry.getSingleMetric('sps_cache_requests_total');
  if (existing) return existing as Counter<'stage' | 'outcome'>;
  return new Counter({
    name: 'sps_cache_requests_total',
    help: 'response cache lookups by stage (edge = ingest-api, processor) and outcome',
    labelNames: ['stage', 'outcome'],
    registers: [registry],
  });
}

/**
 * The response cache stage, shared by ingest-api (sync calls answered at the edge, one Kafka hop
 * instead of three) and the processor (Kafka-native requests, and what the edge did not answer).
 * Lookups are counted per stage; Redis being away is a miss for the caller, never an error.
 */
export class AnswerCache {
  constructor(
    private readonly cache: ResponseCache<CachedAnswer>,
    private readonly stage: CacheStage,
    private readonly lookups: Counter<'stage' | 'outcome'>,
  ) {}

  async lookup(key: string): Promise<CachedAnswer | undefined> {
    const outcome = await this.cache.get(key);
    this.lookups.inc({ stage: this.stage, outcome: outcome.status });
    return outcome.status === 'hit' ? outcome.value : undefined;
  }

  async store(request: PromptRequestMessage, key: string, answer: CachedAnswer, ttlSeconds: number) {
    await this.cache.set(key, answer, ttlSeconds, cacheIndexes(request.tenant_id, request.labels));
  }
}
