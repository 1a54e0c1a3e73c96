import Anthropic from '@anthropic-ai/sdk';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../../language-model.js';
import { createHttpClient } from '../http-client.js';
import { toProviderError } from './errors.js';
import { answerText, toOutputConfig } from './response-format.js';
import { transformSchema } from './schema-transform.js';

export interface AnthropicModelOptions {
  provider?: string;
  model: string;
  apiKey: string;
  baseURL?: string;
  /** Backstop timeout of one call (the router enforces the per-call timeout). Defaults to 60 s. */
  timeoutMs?: number;
  /** Keep-alive connections to the provider at most. Defaults to 256. */
  maxConnections?: number;
}

export function createAnthropicModel(options: AnthropicModelOptions): LanguageModel {
  const http = createHttpClient({ connections: options.maxConnections, timeoutMs: options.timeoutMs });
  // Retries belong to the router, so the SDK's own are disabled; its timeout (a timer it sets on
  // every call anyway) is a backstop behind the router's per-call timeout.
  const client = new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
    fetch: http.fetch,
    fetchOptions: http.fetchOptions,
  });
  const provider = options.provider ?? 'anthropic';
  return {
    provider,
    model: options.model,
    transformSchema,
    close: http.close,
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
