import type { PromptRequestMessage, ResultMessage } from '@sps/contracts';
import type { AnswerCache } from './answer-cache.js';
import { optionsOf, redactionOf, resultOf } from './pipeline-result.js';

/**
 * Cache hits answered in ingest-api, before anything is produced: the caller gets the result
 * after one Redis GET, and the result still goes to the results topic (its row, its job
 * counters, its metrics) exactly as if the processor had answered it.
 */
export class EdgeAnswers {
  constructor(private readonly cache: AnswerCache) {}

  /** Whether `answer` looks `request` up at all (not with `bypass_cache`). */
  looksUp(request: PromptRequestMessage): boolean {
    return !request.options?.bypass_cache;
  }

  /** The result for `request` when its work key is cached; `undefined` sends it down the pipeline. */
  async answer(request: PromptRequestMessage, key: string): Promise<ResultMessage | undefined> {
    const started = performance.now();
    if (!this.looksUp(request)) return undefined;
    const hit = await this.cache.lookup(key);
    if (!hit) return undefined;
    const prompt = redactionOf(request, optionsOf(request))?.text ?? request.prompt;
    return resultOf(
      request,
      prompt,
      { status: 'succeeded', output: { ...hit.output, cached: true }, attempts: [] },
      started,
    );
  }
}
