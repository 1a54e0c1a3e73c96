import Anthropic from '@anthropic-ai/sdk';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../../language-model.js';
import { toProviderError } from './errors.js';
import { answerText, toOutputConfig } from './response-format.js';
import { transformSchema } from './schema-transform.js';

export interface AnthropicModelOptions {
  provider?: string;
  model: string;
  apiKey: string;
  baseURL?: string;
  timeoutMs?: number;
}

export function createAnthropicModel(options: AnthropicModelOptions): LanguageModel {
  // Retries and timeouts belong to the router, so the SDK's own are disabled.
  const client = new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
  });
  const provider = options.provider ?? 'anthropic';
  return {
    provider,
    model: options.model,
    transformSchema,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      try {
        const message = await client.messages.create(
          {
            model: request.model ?? options.model,
            max_tokens: request.maxTokens,
            // The Messages API no longer takes sampling parameters such as temperature.
            system: request.system,
            messages: request.messages,
            ...toOutputConfig(request.schema),
          },
          { signal: request.signal },
        );
        return {
          text: answerText(message.content),
          tokensIn: message.usage.input_tokens,
          tokensOut: message.usage.output_tokens,
          model: message.model || options.model,
          finishReason:
            message.stop_reason === 'max_tokens' ? 'length' : message.stop_reason ? 'stop' : 'other',
        };
      } catch (error) {
        throw toProviderError(error, provider);
      }
    },
  };
}
