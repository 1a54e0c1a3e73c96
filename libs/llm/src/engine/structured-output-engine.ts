import { ServiceError, type ErrorDetail, type ProviderAttempt } from '@sps/contracts';
import type { ChatMessage, LanguageModel } from '../language-model.js';
import { ProviderError } from '../provider-error.js';
import type { CompiledSchema } from '../validation/schema-compiler.js';
import { extractJson } from './extract-json.js';
import { feedbackPrompt, systemPrompt } from './prompts.js';

export interface StructuredRequest {
  prompt: string;
  schema: CompiledSchema;
  isDefaultAnalysis: boolean;
  temperature: number;
  maxTokens: number;
  signal: AbortSignal;
}

export interface StructuredAnswer {
  data: unknown;
  provider: string;
  model: string;
  repaired: boolean;
  attempts: ProviderAttempt[];
}

interface EngineOptions {
  /** Providers in fallback order. */
  models: LanguageModel[];
  /** Calls per provider, the first included, before falling back (feedback on each retry). */
  maxAttemptsPerProvider: number;
}

/**
 * Prompt + schema in, a valid instance out, or a ServiceError with every reason: tries each
 * provider in turn; an invalid answer is sent back with the validation errors as feedback.
 */
export class StructuredOutputEngine {
  constructor(private readonly options: EngineOptions) {}

  async run(request: StructuredRequest): Promise<StructuredAnswer> {
    const attempts: ProviderAttempt[] = [];
    let lastErrors: ErrorDetail[] = [];
    let lastProviderError: ProviderError | undefined;
    for (const model of this.options.models) {
      const outcome = await this.tryModel(model, request, attempts);
      if (outcome.kind === 'answer') return { ...outcome.answer, attempts };
      if (outcome.kind === 'invalid') lastErrors = outcome.errors;
      else lastProviderError = outcome.error;
    }
    if (lastErrors.length > 0) {
      throw new ServiceError('VALIDATION_FAILED', 'no provider produced an answer that satisfies the schema', {
        validation_errors: lastErrors,
        attempts,
      });
    }
    throw new ServiceError('LLM_PROVIDER_ERROR', `all providers failed: ${lastProviderError?.message ?? 'none configured'}`, {
      attempts,
    });
  }

  private async tryModel(
    model: LanguageModel,
    request: StructuredRequest,
    attempts: ProviderAttempt[],
  ): Promise<
    | { kind: 'answer'; answer: Omit<StructuredAnswer, 'attempts'> }
    | { kind: 'invalid'; errors: ErrorDetail[] }
    | { kind: 'provider-error'; error: ProviderError }
  > {
    const messages: ChatMessage[] = [{ role: 'user', content: request.prompt }];
    const transform = model.transformSchema(request.schema.schema);
    let errors: ErrorDetail[] = [];
    for (let attempt = 0; attempt < this.options.maxAttemptsPerProvider; attempt++) {
      const started = performance.now();
      const record = (fields: Partial<ProviderAttempt> & Pick<ProviderAttempt, 'outcome'>) =>
        attempts.push({
          provider: model.provider,
          model: model.model,
          tokens_in: 0,
          tokens_out: 0,
          cost_usd: 0,
          latency_ms: Math.round(performance.now() - started),
          ...fields,
        });
      let result;
      try {
        result = await model.generate({
          system: systemPrompt(request.schema.schema, request.isDefaultAnalysis),
          messages,
          schema: transform,
          schemaName: request.isDefaultAnalysis ? 'analysis' : 'response',
          temperature: request.temperature,
          maxTokens: request.maxTokens,
          signal: request.signal,
        });
      } catch (error) {
        const providerError = error instanceof ProviderError ? error : new ProviderError('unknown', String(error), model.provider);
        record({ outcome: 'error', error_class: providerError.errorClass });
        return { kind: 'provider-error', error: providerError };
      }
      const usage = { tokens_in: result.tokensIn, tokens_out: result.tokensOut, model: result.model };
      const extracted = extractJson(result.text);
      if (extracted.ok) extracted.value = transform.restore(extracted.value);
      errors = extracted.ok ? request.schema.validate(extracted.value) : [{ path: '$', message: extracted.reason }];
      if (extracted.ok && errors.length === 0) {
        record({ ...usage, outcome: extracted.repaired ? 'repaired' : 'valid' });
        return { kind: 'answer', answer: { data: extracted.value, provider: model.provider, model: result.model, repaired: extracted.repaired } };
      }
      record({ ...usage, outcome: 'invalid', error_class: 'schema_mismatch' });
      messages.push({ role: 'assistant', content: result.text }, { role: 'user', content: feedbackPrompt(errors) });
    }
    return { kind: 'invalid', errors };
  }
}
