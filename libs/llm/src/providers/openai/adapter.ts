import OpenAI from 'openai';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../../language-model.js';
import { createHttpClient } from '../http-client.js';
import { toProviderError } from './errors.js';
import { toResponseFormat } from './response-format.js';
import { transformSchema } from './schema-transform.js';

export interface OpenAIModelOptions {
  /** Name this provider is configured under (`openai`, or e.g. `vllm` for a compatible server). */
  provider: string;
  model: string;
  apiKey: string;
  /** For OpenAI-compatible servers (vLLM, Ollama, llama.cpp server, LM Studio). */
  baseURL?: string;
  /** Backstop timeout of one call (the router enforces the per-call timeout). Defaults to 60 s. */
  timeoutMs?: number;
  /** Keep-alive connections to the provider at most. Defaults to 256. */
  maxConnections?: number;
}

export function createOpenAIModel(options: OpenAIModelOptions): LanguageModel {
  const http = createHttpClient({ connections: options.maxConnections, timeoutMs: options.timeoutMs });
  // Retries belong to the router, so the SDK's own are disabled; its timeout (a timer it sets on
  // every call anyway) is a backstop behind the router's per-call timeout.
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
    fetch: http.fetch,
    fetchOptions: http.fetchOptions,
  });
  return {
    provider: options.provider,
    model: options.model,
    transformSchema,
    close: http.close,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      try {
        const completion = await client.chat.completions.create(
          {
            model: request.model ?? options.model,
            temperature: request.temperature,
            max_completion_tokens: request.maxTokens,
            messages: [{ role: 'system', content: request.system }, ...request.messages],
            response_format: toResponseFormat(request.schemaName, request.schema),
          },
          { signal: request.signal },
        );
        const choice = completion.choices[0];
        return {
          text: choice?.message.content ?? '',
          tokensIn: completion.usage?.prompt_tokens ?? 0,
          tokensOut: completion.usage?.completion_tokens ?? 0,
          model: completion.model || options.model,
          finishReason:
            choice?.finish_reason === 'stop'
              ? 'stop'
              : choice?.finish_reason === 'length'
                ? 'length'
                : 'other',
        };
      } catch (error) {
        throw toProviderError(error, options.provider);
      }
    },
  };
}
