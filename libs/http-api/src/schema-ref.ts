import { Type } from '@sinclair/typebox';
import { ServiceError } from '@sps/contracts';
import { findSchema, type Database } from '@sps/db';

export const SchemaRef = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }), version: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false, description: 'a registered schema instead of an inline one; latest version when omitted' },
);

/** Replaces `schema_ref` with the registered schema it names (the caller's tenant only). */
export async function resolveSchemaRef<T extends { schema?: Record<string, unknown>; schema_ref?: { name: string; version?: number } }>(
  db: Database,
  tenantId: string,
  body: T,
  field = 'schema_ref',
): Promise<Omit<T, 'schema_ref'>> {
  const { schema_ref: ref, ...rest } = body;
  if (!ref) return rest;
  if (body.schema) throw invalid(field, 'give either schema or schema_ref, not both');
  const row = await findSchema(db, tenantId, ref.name, ref.version);
  if (!row) throw new ServiceError('NOT_FOUND', `${field}: no schema ${ref.name}${ref.version ? ` version ${ref.version}` : ''}`, { fields: [{ field, reason: 'not found' }] });
  return { ...rest, schema: row.schema_definition } as Omit<T, 'schema_ref'>;
}

function invalid(field: string, reason: string): ServiceError {
  return new ServiceError('INVALID_REQUEST', `${field}: ${reason}`, { fields: [{ field, reason }] });
}
