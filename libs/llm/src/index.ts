export type { LanguageModel, GenerateRequest, GenerateResult, ChatMessage } from './language-model.js';
export { ProviderError, type ProviderErrorClass } from './provider-error.js';
export { createOpenAIModel, type OpenAIModelOptions } from './providers/openai/index.js';
export { SchemaCompiler, type CompiledSchema } from './validation/schema-compiler.js';
export { extractJson, type ExtractedJson } from './engine/extract-json.js';
export { StructuredOutputEngine, type StructuredRequest, type StructuredAnswer } from './engine/structured-output-engine.js';
export { ProviderConfig, createModels } from './provider-config.js';
