export { createRedis, redisReady, type Redis } from './redis.js';
export { ResponseCache, cacheIndexes, type CacheOutcome } from './response-cache.js';
export { JobCancellations } from './job-cancellations.js';
