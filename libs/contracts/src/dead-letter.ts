import { Type, type Static } from '@sinclair/typebox';

/** `sps.requests.dlq.v1`: the untouched original value and why it was refused. */
export const DeadLetterMessage = Type.Object(
  {
    reason: Type.String(),
    error_code: Type.String(),
    source: Type.Object({ topic: Type.String(), partition: Type.Integer(), offset: Type.String() }),
    original_value: Type.Union([Type.String(), Type.Null()], {
      description: 'utf-8 text of the refused value',
    }),
    failed_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'sps.requests.dlq.v1' },
);
export type DeadLetterMessage = Static<typeof DeadLetterMessage>;
