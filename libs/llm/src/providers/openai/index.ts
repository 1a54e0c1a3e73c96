export { createOpenAIModel, type OpenAIModelOptions } from './adapter.js';
