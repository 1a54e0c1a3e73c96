import { inSpan, SpanKind, type Attributes } from '@sps/observability';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../language-model.js';
import { ProviderError } from '../provider-error.js';

export interface ModelTracing {
  /**
   * Records prompts and outputs on the spans (`gen_ai.system_instructions`,
   * `gen_ai.input.messages`, `gen_ai.output.messages`), each text passed through `redact` first.
   * Absent: no content is recorded, only sizes and usage.
   */
  captureContent?: { redact: (text: string) => string };
}

// gen_ai.provider.name's well-known values, where ours differ from them.
const PROVIDER_NAMES: Record<string, string> = { gemini: 'gcp.gemini' };

/**
 * A LanguageModel whose every call is a CLIENT span `chat <model>` with the GenAI semantic
 * conventions. It sits under the resilience policies (ResilientProvider wraps it), so each call
 * that reaches the provider is one span: retries and the engine's re-asks included. A call refused
 * before reaching the provider (open circuit, full bulkhead, spent budget) makes no span.
 */
export function tracedModel(model: LanguageModel, tracing: ModelTracing = {}): LanguageModel {
  const redact = tracing.captureContent?.redact;
  return {
    provider: model.provider,
    get model() {
      return model.model;
    },
    transformSchema: (schema) => model.transformSchema(schema),
    close: model.close && (() => model.close!()),
    generate(request: GenerateRequest): Promise<GenerateResult> {
      const requestModel = request.model ?? model.model;
      const attributes: Attributes = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': PROVIDER_NAMES[model.provider] ?? model.provider,
        'gen_ai.request.model': requestModel,
        'gen_ai.request.temperature': request.temperature,
        'gen_ai.request.max_tokens': request.maxTokens,
        'gen_ai.output.type': 'json',
        'sps.llm.provider': model.provider,
        'sps.llm.schema_name': request.schemaName,
        'sps.llm.native_schema': request.schema.providerSchema !== undefined,
      };
      if (redact) {
        attributes['gen_ai.system_instructions'] = JSON.stringify([
          { type: 'text', content: redact(request.system) },
        ]);
        attributes['gen_ai.input.messages'] = JSON.stringify(
          request.messages.map((message) => ({
            role: message.role,
            parts: [{ type: 'text', content: redact(message.content) }],
          })),
        );
      }
      return inSpan(`chat ${requestModel}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
        try {
          const result = await model.generate(request);
          span.setAttributes({
            'gen_ai.response.model': result.model,
            'gen_ai.response.finish_reasons': [result.finishReason],
            'gen_ai.usage.input_tokens': result.tokensIn,
            'gen_ai.usage.output_tokens': result.tokensOut,
          });
          if (redact)
            span.setAttribute(
              'gen_ai.output.messages',
              JSON.stringify([
                {
                  role: 'assistant',
                  parts: [{ type: 'text', content: redact(result.text) }],
                  finish_reason: result.finishReason,
                },
              ]),
            );
          return result;
        } catch (error) {
          span.setAttribute(
            'error.type',
            error instanceof ProviderError ? error.errorClass : ((error as Error)?.name ?? 'unknown'),
          );
          throw error;
        }
      });
    },
  };
}
