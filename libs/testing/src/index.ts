export {
  FakeProviderServer,
  type FakeStep,
  type FakeProviderOptions,
  type FakeProviderName,
  type SchemaRuleCheck,
} from './fake-provider/server.js';
export { generateInstance } from './fake-provider/generate-instance.js';
export { resolveTestEndpoints, type TestEndpoints } from './endpoints.js';
export { spawnService, freePort, freePorts, type RunningService } from './spawn-service.js';
export { startPrivateKafka, type PrivateKafka } from './private-kafka.js';
export { scriptedDatabase } from './scripted-database.js';
export { endTenantJobs } from './end-tenant-jobs.js';
