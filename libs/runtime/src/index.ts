export { runService, type ServiceHandle } from './run-service.js';
export { PeriodicTask } from './periodic-task.js';
