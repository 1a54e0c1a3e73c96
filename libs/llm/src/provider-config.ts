import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '@sps/config';
import type { LanguageModel } from './language-model.js';
import { createOpenAIModel } from './providers/openai/index.js';

/** Environment variables that choose and configure providers (validated with the app's config). */
export const ProviderConfig = {
  LLM_PROVIDERS: Type.String({
    default: 'openai',
    pattern: '^[a-z-]+(,[a-z-]+)*$',
    description: 'providers in fallback order: openai, openai-compatible',
  }),
  LLM_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'calls per provider, with feedback' }),
  LLM_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
  OPENAI_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  OPENAI_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  OPENAI_MODEL: Type.String({ default: 'gpt-4o-mini' }),
  OPENAI_COMPATIBLE_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  OPENAI_COMPATIBLE_MODEL: Type.Optional(Type.String({ minLength: 1 })),
  OPENAI_COMPATIBLE_API_KEY: Type.String({ default: 'not-needed' }),
};

type ProviderSettings = Static<ReturnType<typeof Type.Object<typeof ProviderConfig>>>;

/** The configured providers in fallback order; a provider named without its settings is a config error. */
export function createModels(config: ProviderSettings): LanguageModel[] {
  const problems: string[] = [];
  const models = config.LLM_PROVIDERS.split(',').flatMap((name): LanguageModel[] => {
    switch (name) {
      case 'openai':
        if (!config.OPENAI_API_KEY) problems.push('OPENAI_API_KEY: is required when LLM_PROVIDERS includes openai');
        return [
          createOpenAIModel({
            provider: 'openai',
            model: config.OPENAI_MODEL,
            apiKey: config.OPENAI_API_KEY ?? '',
            baseURL: config.OPENAI_BASE_URL,
            timeoutMs: config.LLM_TIMEOUT_MS,
          }),
        ];
      case 'openai-compatible':
        if (!config.OPENAI_COMPATIBLE_BASE_URL) problems.push('OPENAI_COMPATIBLE_BASE_URL: is required for openai-compatible');
        if (!config.OPENAI_COMPATIBLE_MODEL) problems.push('OPENAI_COMPATIBLE_MODEL: is required for openai-compatible');
        return [
          createOpenAIModel({
            provider: 'openai-compatible',
            model: config.OPENAI_COMPATIBLE_MODEL ?? '',
            apiKey: config.OPENAI_COMPATIBLE_API_KEY,
            baseURL: config.OPENAI_COMPATIBLE_BASE_URL,
            timeoutMs: config.LLM_TIMEOUT_MS,
          }),
        ];
      default:
        problems.push(`LLM_PROVIDERS: unknown provider '${name}' (known: openai, openai-compatible)`);
        return [];
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return models;
}
