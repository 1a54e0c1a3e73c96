export { buildServer, type ServerDeps, type ApiServer } from './server.js';
export { PipelineClient } from './pipeline-client.js';
