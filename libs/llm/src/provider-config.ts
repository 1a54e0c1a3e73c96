import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, StringEnum } from '@sps/config';
import type { LanguageModel } from './language-model.js';
import { tracedModel, type ModelTracing } from './routing/traced-model.js';
import { createAnthropicModel } from './providers/anthropic/index.js';
import { createGeminiModel } from './providers/gemini/index.js';
import { createLocalModel } from './providers/local/index.js';
import { createOpenAIModel } from './providers/openai/index.js';
import { DEFAULT_PRICES, type PriceTable } from './routing/price-table.js';
import {
  DEFAULT_RESILIENCE,
  ResilientProvider,
  type ResilienceSettings,
} from './routing/resilient-provider.js';
import { ProviderRouter, ROUTING_POLICIES } from './routing/router.js';

const KNOWN_PROVIDERS = ['local', 'openai', 'openai-compatible', 'anthropic', 'gemini'] as const;

/** Environment variables that choose and configure providers (validated with the app's config). */
export const ProviderConfig = {
  // The built-in local model is the default, so the service works offline out of the box.
  LLM_PROVIDERS: Type.String({
    default: 'local',
    pattern: '^[a-z-]+(,[a-z-]+)*$',
    description: `providers in fallback order: ${KNOWN_PROVIDERS.join(', ')}`,
  }),
  LLM_ROUTING_POLICY: StringEnum(ROUTING_POLICIES, { default: 'priority' }),
  LLM_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 10,
    default: 3,
    description: 'answers per provider, with feedback',
  }),
  LLM_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: DEFAULT_RESILIENCE.timeoutMs }),
  LLM_MAX_RETRIES: Type.Integer({
    minimum: 0,
    maximum: 10,
    default: DEFAULT_RESILIENCE.maxRetries,
    description: 'retries of a transient failure',
  }),
  LLM_MAX_RETRY_WAIT_MS: Type.Integer({ minimum: 0, default: DEFAULT_RESILIENCE.maxRetryWaitMs }),
  LLM_BREAKER_THRESHOLD: Type.Integer({ minimum: 1, default: DEFAULT_RESILIENCE.breakerThreshold }),
  LLM_BREAKER_COOLDOWN_MS: Type.Integer({ minimum: 100, default: DEFAULT_RESILIENCE.breakerCooldownMs }),
  LLM_MAX_CONCURRENCY: Type.Integer({ minimum: 1, default: DEFAULT_RESILIENCE.maxConcurrency }),
  LLM_REQUESTS_PER_MINUTE: Type.Optional(Type.Integer({ minimum: 1 })),
  LLM_PROVIDER_SETTINGS: Type.Optional(
    Type.String({ description: 'JSON: per-provider overrides, e.g. {"openai":{"timeoutMs":20000}}' }),
  ),
  LLM_PRICES: Type.Optional(
    Type.String({ description: 'JSON: {"model": {"input": usd_per_mtok, "output": usd_per_mtok}}' }),
  ),
  OPENAI_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  OPENAI_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  OPENAI_MODEL: Type.String({ default: 'gpt-4o-mini' }),
  OPENAI_COMPATIBLE_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  OPENAI_COMPATIBLE_MODEL: Type.Optional(Type.String({ minLength: 1 })),
  OPENAI_COMPATIBLE_API_KEY: Type.String({ default: 'not-needed' }),
  ANTHROPIC_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  ANTHROPIC_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  ANTHROPIC_MODEL: Type.String({ default: 'claude-haiku-4-5' }),
  GEMINI_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  GEMINI_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  GEMINI_MODEL: Type.String({ default: 'gemini-2.5-flash' }),
  LOCAL_MODEL_PATH: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'GGUF file for the local provider; `bash deploy/local/model.sh` downloads SmolLM2-135M-Instruct and prints its path',
    }),
  ),
  LOCAL_MODEL_CONTEXT_SIZE: Type.Integer({ minimum: 512, maximum: 32_768, default: 4096 }),
  LOCAL_MODEL_THREADS: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 256, description: 'default: half the cores' }),
  ),
  LOCAL_MODEL_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 8, default: 1 }),
};

type ProviderSettings = Static<ReturnType<typeof Type.Object<typeof ProviderConfig>>>;

/**
 * The router over every configured provider, each behind its resilience policies, each call
 * traced (`tracing.captureContent` adds the redacted prompts and outputs to the spans).
 */
export function createRouter(
  config: ProviderSettings,
  tracing: ModelTracing = {},
): { router: ProviderRouter; prices: PriceTable } {
  const problems: string[] = [];
  const overrides = parseJson<Record<string, Partial<ResilienceSettings>>>(
    'LLM_PROVIDER_SETTINGS',
    config.LLM_PROVIDER_SETTINGS,
    problems,
  );
  const prices = { ...DEFAULT_PRICES, ...parseJson<PriceTable>('LLM_PRICES', config.LLM_PRICES, problems) };
  const defaults: ResilienceSettings = {
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxRetries: config.LLM_MAX_RETRIES,
    maxRetryWaitMs: config.LLM_MAX_RETRY_WAIT_MS,
    breakerThreshold: config.LLM_BREAKER_THRESHOLD,
    breakerCooldownMs: config.LLM_BREAKER_COOLDOWN_MS,
    maxConcurrency: config.LLM_MAX_CONCURRENCY,
    maxQueued: DEFAULT_RESILIENCE.maxQueued,
    requestsPerMinute: config.LLM_REQUESTS_PER_MINUTE,
  };
  const providers = config.LLM_PROVIDERS.split(',').flatMap((name) => {
    const settings = { ...defaults, ...overrides?.[name] };
    const model = createModel(name, config, settings, problems);
    // Traced under the policies: one span per call that reaches the provider (see tracedModel).
    return model ? [new ResilientProvider(tracedModel(model, tracing), settings)] : [];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return { router: new ProviderRouter(providers, prices, config.LLM_ROUTING_POLICY), prices };
}

function createModel(
  name: string,
  config: ProviderSettings,
  settings: ResilienceSettings,
  problems: string[],
): LanguageModel | undefined {
  const require = (variable: keyof ProviderSettings, hint = '') => {
    if (!config[variable])
      problems.push(`${variable}: is required when LLM_PROVIDERS includes ${name}${hint}`);
    return String(config[variable] ?? '');
  };
  // The router enforces the per-call timeout; the clients' own are a backstop. One keep-alive
  // connection per call the provider's bulkhead lets run at once.
  const { timeoutMs, maxConcurrency: maxConnections } = settings;
  switch (name) {
    case 'local':
      return createLocalModel({
        provider: name,
        modelPath: require('LOCAL_MODEL_PATH', ' (`bash deploy/local/model.sh` downloads the model and prints its path)'),
        contextSize: config.LOCAL_MODEL_CONTEXT_SIZE,
        threads: config.LOCAL_MODEL_THREADS,
        concurrency: config.LOCAL_MODEL_CONCURRENCY,
        timeoutMs,
      });
    case 'openai':
      return createOpenAIModel({
        provider: name,
        model: config.OPENAI_MODEL,
        apiKey: require('OPENAI_API_KEY'),
        baseURL: config.OPENAI_BASE_URL,
        timeoutMs,
        maxConnections,
      });
    case 'openai-compatible':
      return createOpenAIModel({
        provider: name,
        model: require('OPENAI_COMPATIBLE_MODEL'),
        apiKey: config.OPENAI_COMPATIBLE_API_KEY,
        baseURL: require('OPENAI_COMPATIBLE_BASE_URL'),
        timeoutMs,
        maxConnections,
      });
    case 'anthropic':
      return createAnthropicModel({
        model: config.ANTHROPIC_MODEL,
        apiKey: require('ANTHROPIC_API_KEY'),
        baseURL: config.ANTHROPIC_BASE_URL,
        timeoutMs,
        maxConnections,
      });
    case 'gemini':
      return createGeminiModel({
        model: config.GEMINI_MODEL,
        apiKey: require('GEMINI_API_KEY'),
        baseURL: config.GEMINI_BASE_URL,
        timeoutMs,
        maxConnections,
      });
    default:
      problems.push(`LLM_PROVIDERS: unknown provider '${name}' (known: ${KNOWN_PROVIDERS.join(', ')})`);
      return undefined;
  }
}

function parseJson<T>(variable: string, text: string | undefined, problems: string[]): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    problems.push(`${variable}: is not valid JSON (${(error as Error).message})`);
    return undefined;
  }
}
