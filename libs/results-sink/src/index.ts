export { ResultsSink, type ResultsSinkOptions } from './results-sink.js';
export { storeResults, refusedResult, classifyStorageError, type StoreResultsDeps } from './store-results.js';
export {
  JobSweeper,
  emitJobOutcomes,
  jobEvent,
  jobEventId,
  type EndedJob,
  type JobOutcomeDeps,
  type JobSweeperOptions,
} from './job-outcomes.js';
