export { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.js';
export { signPayload } from './sign.js';
