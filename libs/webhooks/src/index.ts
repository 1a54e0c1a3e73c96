export {
  WebhookDispatcher,
  DEFAULT_RETRY_DELAYS_MS,
  type WebhookDispatcherOptions,
} from './webhook-dispatcher.js';
export { signPayload } from './sign.js';
export { checkWebhookTarget, type TargetCheck } from './target-check.js';
export { deliver, type DeliveryDeps, type DeliveryOutcome } from './deliver.js';
