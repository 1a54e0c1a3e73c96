export { createLocalModel, type LocalModelOptions, type LocalLanguageModel } from './adapter.js';
export { MODEL_DOWNLOAD_COMMAND } from './errors.js';
