export { createGeminiModel, type GeminiModelOptions } from './adapter.js';
