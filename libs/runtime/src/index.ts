export { runService, type ServiceHandle } from './run-service.js';
