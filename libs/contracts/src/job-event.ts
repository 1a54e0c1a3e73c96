import { Type, type Static } from '@sinclair/typebox';

/**
 * `sps.job-events.v1`: emitted by the sink after the database commit that ended a job (or by its
 * sweeper, for a job that expired or whose event a crash lost). One event per job: `event_id` is
 * derived from the job and its status, so an event emitted twice is the same event twice.
 */
export const JobEventMessage = Type.Object(
  {
    event_id: Type.String({ format: 'uuid' }),
    type: Type.Union([
      Type.Literal('job.completed'),
      Type.Literal('job.failed'),
      Type.Literal('job.cancelled'),
      Type.Literal('job.expired'),
    ]),
    job_id: Type.String({ format: 'uuid' }),
    tenant_id: Type.String(),
    status: Type.Union([
      Type.Literal('completed'),
      Type.Literal('failed'),
      Type.Literal('cancelled'),
      Type.Literal('expired'),
    ]),
    webhook_url: Type.Optional(Type.String()),
    summary: Type.Object({ total: Type.Integer(), successful: Type.Integer(), failed: Type.Integer() }),
    occurred_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'sps.job-events.v1' },
);
export type JobEventMessage = Static<typeof JobEventMessage>;

/** `sps.webhooks.retry.{tier}.v1`: a delivery still to make (the webhook DLQ holds the job event itself). */
export const WebhookDeliveryMessage = Type.Object(
  {
    event: JobEventMessage,
    attempt: Type.Integer({ minimum: 1, description: 'the attempt this message is for' }),
    due_at: Type.String({ format: 'date-time' }),
    last_error: Type.Optional(Type.String()),
  },
  { $id: 'sps.webhooks.retry.v1' },
);
export type WebhookDeliveryMessage = Static<typeof WebhookDeliveryMessage>;
