export { createAnthropicModel, type AnthropicModelOptions } from './adapter.js';
