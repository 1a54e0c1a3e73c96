export type {
  LanguageModel,
  GenerateRequest,
  GenerateResult,
  ChatMessage,
  SchemaTransform,
} from './language-model.js';
export { ProviderError, type ProviderErrorClass } from './provider-error.js';
export { createOpenAIModel, type OpenAIModelOptions } from './providers/openai/index.js';
export { createAnthropicModel, type AnthropicModelOptions } from './providers/anthropic/index.js';
export { createGeminiModel, type GeminiModelOptions } from './providers/gemini/index.js';
export {
  createLocalModel,
  type LocalModelOptions,
  type LocalLanguageModel,
} from './providers/local/index.js';
export { SchemaCompiler, type CompiledSchema } from './validation/schema-compiler.js';
export { extractJson, type ExtractedJson } from './engine/extract-json.js';
export {
  StructuredOutputEngine,
  type StructuredRequest,
  type StructuredAnswer,
} from './engine/structured-output-engine.js';
export {
  ProviderRouter,
  ROUTING_POLICIES,
  type RoutingPolicy,
  type RouteSelection,
} from './routing/router.js';
export {
  ResilientProvider,
  DEFAULT_RESILIENCE,
  type ResilienceSettings,
} from './routing/resilient-provider.js';
export {
  DEFAULT_PRICES,
  costUsd,
  priceCall,
  priceOf,
  unpricedCallCounts,
  type PriceTable,
  type PricedCall,
  type UnpricedCallCount,
} from './routing/price-table.js';
export { ProviderConfig, createRouter } from './provider-config.js';
export { tracedModel, type ModelTracing } from './routing/traced-model.js';
