export { runService, type ServiceHandle } from './run-service.js';
export { PeriodicTask } from './periodic-task.js';
export { exitFatal } from './fatal.js';
export { ServiceHealth, type ReadinessCheck } from './service-health.js';
export {
  bootService,
  type BootConfig,
  type BootContext,
  type BootNeeds,
  type BootSpec,
  type BootedContext,
} from './boot.js';
