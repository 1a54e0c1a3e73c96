import { ServiceError, type ErrorDetail, type ProviderAttempt } from '@sps/contracts';
import type { ChatMessage, GenerateResult, SchemaTransform } from '../language-model.js';
import { ProviderError } from '../provider-error.js';
import { priceCall, type PriceTable } from '../routing/price-table.js';
import type { ResilientProvider } from '../routing/resilient-provider.js';
import type { ProviderRouter, RouteSelection } from '../routing/router.js';
import type { CompiledSchema } from '../validation/schema-compiler.js';
import { extractJson } from './extract-json.js';
import { feedbackPrompt, systemPrompt } from './prompts.js';
import { TransformCache } from './transform-cache.js';

export interface StructuredRequest {
  prompt: string;
  schema: CompiledSchema;
  isDefaultAnalysis: boolean;
  temperature: number;
  maxTokens: number;
  signal: AbortSignal;
  route?: RouteSelection;
}

export interface StructuredAnswer {
  data: unknown;
  provider: string;
  model: string;
  repaired: boolean;
  attempts: ProviderAttempt[];
}

interface EngineOptions {
  router: ProviderRouter;
  /** Answers asked of one provider, the first included, before falling back (feedback on each retry). */
  maxAttemptsPerProvider: number;
  prices: PriceTable;
}

type ProviderOutcome =
  | { kind: 'answer'; answer: Omit<StructuredAnswer, 'attempts'> }
  | { kind: 'invalid'; errors: ErrorDetail[] }
  | { kind: 'provider-error'; error: ProviderError };

/**
 * Prompt + schema in, a valid instance out, or a ServiceError with every reason. Providers are
 * tried in the router's order; an invalid answer is asked again with the validation errors as
 * feedback; each call (retries included) is recorded with tokens, cost, latency and outcome.
 */
export class StructuredOutputEngine {
  private readonly transforms = new TransformCache();
  /**
   * The system prompt of each compiled schema (the compiler hands out one object per schema), one
   * text for the default analysis and one for a schema of the caller's: it holds the schema as JSON,
   * so building it on every call serialised the same schema again for every request.
   */
  private readonly systemPrompts = new WeakMap<CompiledSchema, { analysis?: string; extraction?: string }>();

  constructor(private readonly options: EngineOptions) {}

  async run(request: StructuredRequest): Promise<StructuredAnswer> {
    const attempts: ProviderAttempt[] = [];
    let lastErrors: ErrorDetail[] = [];
    let lastProviderError: ProviderError | undefined;
    for (const provider of this.options.router.order(request.route)) {
      if (request.signal.aborted) break;
      const outcome = await this.tryProvider(provider, request, attempts);
      if (outcome.kind === 'answer') return { ...outcome.answer, attempts };
      if (outcome.kind === 'invalid') lastErrors = outcome.errors;
      else lastProviderError = outcome.error;
    }
    if (request.signal.aborted && lastErrors.length === 0) {
      throw new ServiceError('TIMEOUT', 'the request deadline passed before a valid answer', { attempts });
    }
    if (lastErrors.length > 0) {
      throw new ServiceError(
        'VALIDATION_FAILED',
        'no provider produced an answer that satisfies the schema',
        {
          validation_errors: lastErrors,
          attempts,
        },
      );
    }
    throw new ServiceError(
      'LLM_PROVIDER_ERROR',
      `all providers failed: ${lastProviderError?.message ?? 'none configured'}`,
      {
        attempts,
      },
    );
  }

  private async tryProvider(
    provider: ResilientProvider,
    request: StructuredRequest,
    attempts: ProviderAttempt[],
  ): Promise<ProviderOutcome> {
    const transform = this.transforms.get(provider.model, request.schema);
    const messages: ChatMessage[] = [{ role: 'user', content: request.prompt }];
    let errors: ErrorDetail[] = [];
    for (let round = 0; round < this.options.maxAttemptsPerProvider; round++) {
      let result: GenerateResult;
      let latencyMs = 0;
      try {
        result = await provider.call(
          {
            system: this.systemPromptOf(request.schema, request.isDefaultAnalysis),
            messages,
            schema: transform,
            schemaName: request.isDefaultAnalysis ? 'analysis' : 'response',
            model: request.route?.model,
            temperature: request.temperature,
            maxTokens: request.maxTokens,
            signal: request.signal,
          },
          (call) => {
            // A successful call is recorded below, once its answer has been judged.
            if (call.error)
              attempts.push(
                this.attempt(provider, undefined, call.latencyMs, 'error', call.error.errorClass),
              );
            else latencyMs = call.latencyMs;
          },
        );
      } catch (error) {
        return { kind: 'provider-error', error: error as ProviderError };
      }
      const judged = this.judge(result.text, transform, request.schema);
      if (judged.ok) {
        attempts.push(this.attempt(provider, result, latencyMs, judged.repaired ? 'repaired' : 'valid'));
        return {
          kind: 'answer',
          answer: {
            data: judged.value,
            provider: provider.name,
            model: result.model,
            repaired: judged.repaired,
          },
        };
      }
      errors = judged.errors;
      attempts.push(this.attempt(provider, result, latencyMs, 'invalid', 'schema_mismatch'));
      messages.push(
        { role: 'assistant', content: result.text },
        { role: 'user', content: feedbackPrompt(errors) },
      );
    }
    return { kind: 'invalid', errors };
  }

  private systemPromptOf(schema: CompiledSchema, isDefaultAnalysis: boolean): string {
    let prompts = this.systemPrompts.get(schema);
    if (!prompts) this.systemPrompts.set(schema, (prompts = {}));
    return isDefaultAnalysis
      ? (prompts.analysis ??= systemPrompt(schema.schema, true))
      : (prompts.extraction ??= systemPrompt(schema.schema, false));
  }

  private judge(text: string, transform: SchemaTransform, schema: CompiledSchema) {
    const extracted = extractJson(text);
    if (!extracted.ok) return { ok: false as const, errors: [{ path: '$', message: extracted.reason }] };
    const value = transform.restore(extracted.value);
    const errors = schema.validate(value);
    return errors.length === 0
      ? { ok: true as const, value, repaired: extracted.repaired }
      : { ok: false as const, errors };
  }

  private attempt(
    provider: ResilientProvider,
    result: GenerateResult | undefined,
    latencyMs: number | undefined,
    outcome: ProviderAttempt['outcome'],
    errorClass?: string,
  ): ProviderAttempt {
    const model = result?.model ?? provider.model.model;
    const tokensIn = result?.tokensIn ?? 0;
    const tokensOut = result?.tokensOut ?? 0;
    return {
      provider: provider.name,
      model,
      outcome,
      ...(errorClass ? { error_class: errorClass } : {}),
      tokens_in: tokensIn,
      tokens_out: tokensOut,
      ...priceCall(this.options.prices, provider.name, model, tokensIn, tokensOut),
      latency_ms: Math.round(latencyMs ?? 0),
    };
  }
}
