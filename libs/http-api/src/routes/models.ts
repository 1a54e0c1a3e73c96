import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { basename } from 'node:path';
import { ROUTING_POLICIES, ServiceError, type PromptOptions } from '@sps/contracts';
import { ProviderConfig } from '@sps/llm';
import { ModelList } from '../schemas/chat-completions.js';
import { authenticatedErrors } from '../schemas/errors.js';

/** One configured provider and the model it calls unless a request names another. */
export interface CatalogEntry {
  provider: string;
  /** Undefined when the provider's model is not known here (e.g. openai-compatible without its model). */
  model?: string;
}

/** The providers the pipeline is configured with, in fallback order. */
export type ProviderCatalog = CatalogEntry[];

/** Routing aliases: every configured provider, with fallback, in this order. */
export const ROUTING_ALIASES: Record<string, Pick<PromptOptions, 'routing'>> = {
  auto: {},
  ...Object.fromEntries(ROUTING_POLICIES.map((policy) => [`auto/${policy}`, { routing: policy }])),
};

/**
 * The provider configuration ingest-api can see: the same variables the processor reads
 * (LLM_PROVIDERS and each provider's model, with @sps/llm's defaults). Every app of a deployment
 * shares them (`npm start`, the test harness and the Kubernetes ConfigMap give all apps the same
 * environment); no secret is read. A provider name this service does not know is left out.
 */
export function providerCatalog(env: NodeJS.ProcessEnv = process.env): ProviderCatalog {
  const names = (env.LLM_PROVIDERS || String(ProviderConfig.LLM_PROVIDERS.default))
    .split(',')
    .map((name: string) => name.trim())
    .filter(Boolean);
  const modelOf: Record<string, () => string | undefined> = {
    openai: () => env.OPENAI_MODEL || ProviderConfig.OPENAI_MODEL.default,
    'openai-compatible': () => env.OPENAI_COMPATIBLE_MODEL || undefined,
    anthropic: () => env.ANTHROPIC_MODEL || ProviderConfig.ANTHROPIC_MODEL.default,
    gemini: () => env.GEMINI_MODEL || ProviderConfig.GEMINI_MODEL.default,
    // The local provider names its model after the GGUF file (libs/llm/src/providers/local).
    local: () => (env.LOCAL_MODEL_PATH ? basename(env.LOCAL_MODEL_PATH).replace(/\.gguf$/i, '') : undefined),
  };
  return [...new Set<string>(names)].flatMap((provider) =>
    modelOf[provider] ? [{ provider, model: modelOf[provider]() }] : [],
  );
}

/** The model ids GET /v1/models lists: `provider/model` (or the provider alone), then the aliases. */
export function modelIds(catalog: ProviderCatalog): { id: string; owned_by: string }[] {
  return [
    ...catalog.map(({ provider, model }) => ({
      id: model ? `${provider}/${model}` : provider,
      owned_by: provider,
    })),
    ...Object.keys(ROUTING_ALIASES).map((id) => ({ id, owned_by: 'sps' })),
  ];
}

/**
 * The pipeline options a chat-completions `model` chooses (see ChatCompletionBody.model):
 * a routing alias, a provider name, `provider/model`, or the configured model of a provider.
 * Anything else is a 400 naming `model` with what is configured.
 */
export function resolveModel(
  model: string,
  catalog: ProviderCatalog,
): Pick<PromptOptions, 'provider' | 'model' | 'routing'> {
  const alias = ROUTING_ALIASES[model];
  if (alias) return { ...alias };
  if (catalog.some((entry) => entry.provider === model)) return { provider: model };
  const slash = model.indexOf('/');
  if (slash > 0) {
    const provider = model.slice(0, slash);
    const rest = model.slice(slash + 1);
    if (rest && catalog.some((entry) => entry.provider === provider)) return { provider, model: rest };
  }
  const byModel = catalog.find((entry) => entry.model === model);
  if (byModel) return { provider: byModel.provider, model };
  const known = modelIds(catalog)
    .map((entry) => entry.id)
    .join(', ');
  const reason = `'${model}' is not a configured model (GET /v1/models lists them: ${known})`;
  throw new ServiceError('INVALID_REQUEST', `model: ${reason}`, { fields: [{ field: 'model', reason }] });
}

/** GET /v1/models: the configured providers' models and the routing aliases, OpenAI's list shape. */
export const modelRoutes: FastifyPluginAsyncTypebox<{ catalog?: ProviderCatalog }> = async (app, options) => {
  const catalog = options.catalog ?? providerCatalog();
  const created = Math.floor(Date.now() / 1000);
  app.get(
    '/v1/models',
    {
      schema: {
        tags: ['openai-compatible'],
        summary: 'The models /v1/chat/completions accepts (OpenAI-compatible)',
        response: { 200: ModelList, ...authenticatedErrors() },
      },
    },
    async () => ({
      object: 'list' as const,
      data: modelIds(catalog).map(({ id, owned_by }) => ({
        id,
        object: 'model' as const,
        created,
        owned_by,
      })),
    }),
  );
};
