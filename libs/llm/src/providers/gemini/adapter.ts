import { GoogleGenAI } from '@google/genai';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../../language-model.js';
import { toProviderError } from './errors.js';
import { toGenerationConfig } from './response-format.js';
import { transformSchema } from './schema-transform.js';

export interface GeminiModelOptions {
  provider?: string;
  model: string;
  apiKey: string;
  baseURL?: string;
  timeoutMs?: number;
}

export function createGeminiModel(options: GeminiModelOptions): LanguageModel {
  const provider = options.provider ?? 'gemini';
  const client = new GoogleGenAI({
    apiKey: options.apiKey,
    // Retries belong to the router: one attempt per call.
    httpOptions: {
      baseUrl: options.baseURL,
      timeout: options.timeoutMs ?? 60_000,
      retryOptions: { attempts: 1 },
    },
  });
  return {
    provider,
    model: options.model,
    transformSchema,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      let retryAfter: string | null = null;
      // The SDK's errors drop response headers; a wrapping fetch keeps Retry-After.
      const fetchKeepingRetryAfter: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (!response.ok) retryAfter = response.headers.get('retry-after');
        return response;
      };
      try {
        const response = await client.models.generateContent({
          model: request.model ?? options.model,
          contents: request.messages.map((m) => ({
            role: m.role === 'assistant' ? 'model' : 'user',
            parts: [{ text: m.content }],
          })),
          config: {
            systemInstruction: request.system,
            temperature: request.temperature,
            maxOutputTokens: request.maxTokens,
            abortSignal: request.signal,
            httpOptions: { fetch: fetchKeepingRetryAfter },
            ...toGenerationConfig(request.schema),
          },
        });
        const finish = response.candidates?.[0]?.finishReason;
        return {
          text: response.text ?? '',
          tokensIn: response.usageMetadata?.promptTokenCount ?? 0,
          tokensOut: response.usageMetadata?.candidatesTokenCount ?? 0,
          model: response.modelVersion ?? options.model,
          finishReason: finish === 'MAX_TOKENS' ? 'length' : finish === 'STOP' ? 'stop' : 'other',
        };
      } catch (error) {
        throw toProviderError(error, provider, retryAfter);
      }
    },
  };
}
