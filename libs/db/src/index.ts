export { createDatabase, type Database } from './database.js';
export { migrateToLatest } from './migrate.js';
export type * from './tables.js';
export { findRequestLog } from './repositories/request-logs.js';
export {
  createApiKey,
  findActiveKey,
  hashApiKey,
  keyUsage,
  listApiKeys,
  revokeApiKey,
  updateKeyControls,
  NO_KEY_CONTROLS,
  type AuthenticatedKey,
  type KeyControls,
  type KeyUsage,
} from './repositories/api-keys.js';
export * from './repositories/jobs.js';
export * from './repositories/schemas.js';
export * from './repositories/templates.js';
export * from './repositories/request-history.js';
