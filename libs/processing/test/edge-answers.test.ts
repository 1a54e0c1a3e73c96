import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { ResponseCache } from '@sps/cache';
import { ResultMessage, compileContract, workKey, type PromptRequestMessage } from '@sps/contracts';
import { AnswerCache, cacheLookupCounter, type CachedAnswer } from '../src/answer-cache.js';
import { EdgeAnswers } from '../src/edge-answers.js';

const checkResult = compileContract(ResultMessage);
const OUTPUT: CachedAnswer['output'] = {
  data: { total: 42 },
  output_format: 'json',
  validation_status: 'passed',
  provider_used: 'openai',
  model: 'gpt-4o-mini',
  repaired: false,
  original_language: 'en',
};

/** The response cache's contract over a Map (the real one is tested against Redis). */
function memoryCache(entries: Record<string, CachedAnswer> = {}) {
  const gets: string[] = [];
  const cache = {
    async get(key: string) {
      gets.push(key);
      return key in entries ? { status: 'hit' as const, value: entries[key]! } : { status: 'miss' as const };
    },
  } as unknown as ResponseCache<CachedAnswer>;
  return { cache, gets };
}

function request(overrides: Partial<PromptRequestMessage> = {}): PromptRequestMessage {
  return {
    request_id: randomUUID(),
    tenant_id: 'acme',
    api_key_id: randomUUID(),
    prompt: 'Call Ada at ada@example.com about invoice 7',
    options: { timeout_ms: 5_000 },
    ...overrides,
  };
}

describe('EdgeAnswers (cache hits answered by ingest-api)', () => {
  it('answers a cached work key with the result the processor would have published', async () => {
    const cached = request();
    const { cache, gets } = memoryCache({ [workKey(cached)]: { output: OUTPUT } });
    const registry = new Registry();
    const edge = new EdgeAnswers(new AnswerCache(cache, 'edge', cacheLookupCounter(registry)));

    const result = await edge.answer(cached, workKey(cached));
    expect(checkResult(result).ok).toBe(true);
    expect(result).toMatchObject({
      request_id: cached.request_id,
      tenant_id: 'acme',
      api_key_id: cached.api_key_id,
      status: 'succeeded',
      prompt: cached.prompt,
      output: { ...OUTPUT, cached: true },
      attempts: [],
      request_params: { format: 'json', options: { timeout_ms: 5_000 } },
    });
    const miss = request({ prompt: 'something else' });
    expect(await edge.answer(miss, workKey(miss))).toBeUndefined();
    expect(gets).toHaveLength(2);
    const counted = (await registry.getSingleMetric('sps_cache_requests_total')!.get()).values;
    expect(counted.map((v) => [v.labels, v.value])).toEqual([
      [{ stage: 'edge', outcome: 'hit' }, 1],
      [{ stage: 'edge', outcome: 'miss' }, 1],
    ]);
  });

  it('stores the redacted prompt when the request asks for redaction', async () => {
    const redacted = request({ options: { redact_pii: true } });
    const { cache } = memoryCache({ [workKey(redacted)]: { output: OUTPUT } });
    const edge = new EdgeAnswers(new AnswerCache(cache, 'edge', cacheLookupCounter(new Registry())));
    const result = await edge.answer(redacted, workKey(redacted));
    expect(result?.prompt).not.toContain('ada@example.com');
    expect(result?.prompt).toContain('[EMAIL');
  });

  it('leaves bypass_cache requests to the pipeline without asking the cache', async () => {
    const bypass = request({ options: { bypass_cache: true } });
    const { cache, gets } = memoryCache({ [workKey(bypass)]: { output: OUTPUT } });
    const edge = new EdgeAnswers(new AnswerCache(cache, 'edge', cacheLookupCounter(new Registry())));
    expect(await edge.answer(bypass, workKey(bypass))).toBeUndefined();
    expect(gets).toEqual([]);
  });
});
