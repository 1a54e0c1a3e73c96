export { ResultsSink, type ResultsSinkOptions } from './results-sink.js';
