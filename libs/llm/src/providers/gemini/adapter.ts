import { GoogleGenAI } from '@google/genai';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../../language-model.js';
import { createHttpClient } from '../http-client.js';
import { toProviderError } from './errors.js';
import { toGenerationConfig } from './response-format.js';
import { transformSchema } from './schema-transform.js';

export interface GeminiModelOptions {
  provider?: string;
  model: string;
  apiKey: string;
  baseURL?: string;
  /** Backstop timeout of one call (the router enforces the per-call timeout). Defaults to 60 s. */
  timeoutMs?: number;
  /** Keep-alive connections to the provider at most. Defaults to 256. */
  maxConnections?: number;
}

export function createGeminiModel(options: GeminiModelOptions): LanguageModel {
  const provider = options.provider ?? 'gemini';
  const http = createHttpClient({ connections: options.maxConnections, timeoutMs: options.timeoutMs });
  const client = new GoogleGenAI({
    apiKey: options.apiKey,
    // Retries belong to the router: one attempt per call. No `timeout`: the SDK's timer for it is
    // left armed after a successful call (until it fires, holding the call's abort controller);
    // the router enforces the per-call timeout, the HTTP client's own timeouts are the backstop.
    // The server is still told the timeout, as the SDK does when given one.
    httpOptions: {
      baseUrl: options.baseURL,
      retryOptions: { attempts: 1 },
      headers: { 'X-Server-Timeout': String(Math.ceil((options.timeoutMs ?? 60_000) / 1000)) },
    },
  });
  return {
    provider,
    model: options.model,
    transformSchema,
    close: http.close,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      let retryAfter: string | null = null;
      // The SDK's errors drop response headers; a wrapping fetch keeps Retry-After.
      const fetchKeepingRetryAfter: typeof fetch = async (input, init) => {
        const response = await http.fetchWithOptions(input, init);
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
