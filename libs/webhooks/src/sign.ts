import { Webhook } from 'standardwebhooks';

/** Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>). */
export function signPayload(
  secret: string,
  messageId: string,
  payload: string,
  at = new Date(),
): Record<string, string> {
  const signature = new Webhook(secret).sign(messageId, at, payload);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
