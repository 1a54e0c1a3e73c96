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
export {
  arrayLiteral,
  insertParameters,
  insertResults,
  requestLogRow,
  REQUEST_LOG_COLUMNS,
  type Cell,
  type RequestLogColumn,
  type RequestLogRow,
} from './insert-results.js';
