export { buildServer, type ServerDeps, type ApiServer } from './server.js';
export { PipelineClient } from './pipeline-client.js';
export {
  JobPublicationResumer,
  JobPublicationError,
  jobItemMessages,
  owesPublication,
  publishJobItems,
  type JobPublicationResumerOptions,
  type JobPublisherDeps,
  type PublishableJob,
} from './job-publisher.js';
export { providerCatalog, type ProviderCatalog } from './routes/models.js';
