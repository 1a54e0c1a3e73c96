import { Type } from '@sinclair/typebox';
import { ERROR_CODES } from '@sps/contracts';

/** Seed 5.2 envelope, used by every error response. */
export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.Unsafe<string>({ type: 'string', enum: ERROR_CODES }),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      request_id: Type.String(),
      timestamp: Type.String({ format: 'date-time' }),
    }),
  },
  { $id: 'ErrorEnvelope', title: 'Error' },
);

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref('ErrorEnvelope')]));
