import { Type } from '@sinclair/typebox';
import { ServiceError } from '@sps/contracts';
import { findSchema, findTemplate, type Database } from '@sps/db';
import { renderTemplate } from '@sps/processing';
import { Version } from './schemas/common.js';

export const SchemaRef = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    version: Type.Optional(Version()),
  },
  {
    additionalProperties: false,
    description: 'a registered schema instead of an inline one; latest version when omitted',
  },
);

export const TemplateRef = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    version: Type.Optional(Version()),
    parameters: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
      default: {},
    }),
  },
  {
    additionalProperties: false,
    description: 'a registered template and its {{parameters}}, instead of a prompt',
  },
);

interface Referencing {
  prompt?: string;
  schema?: Record<string, unknown>;
  schema_ref?: { name: string; version?: number };
  template?: { name: string; version?: number; parameters: Record<string, string | number | boolean> };
}

/** What the references of a request resolve to, and the registry names its cache entries are filed under. */
export type Resolved<T> = Omit<T, 'schema_ref' | 'template'> & {
  labels: { schema?: string; template?: string };
};

/**
 * Replaces `schema_ref` with the registered schema and `template` with its rendered prompt
 * (and the template's schema when the request names none) — the caller's tenant only.
 */
export async function resolveReferences<T extends Referencing>(
  db: Database,
  tenantId: string,
  body: T,
  prefix = '',
): Promise<Resolved<T>> {
  const { schema_ref: schemaRef, template, ...rest } = body;
  const labels: { schema?: string; template?: string } = {};
  let prompt = rest.prompt;
  let ref = schemaRef;
  if (template) {
    if (prompt !== undefined) throw invalid(`${prefix}template`, 'give either prompt or template, not both');
    const row = await findTemplate(db, tenantId, template.name, template.version);
    if (!row) throw notFound(`${prefix}template`, `no template ${template.name}`);
    prompt = renderTemplate(row.template_text, template.parameters);
    labels.template = row.name;
    if (!ref && !rest.schema && row.schema_name)
      ref = { name: row.schema_name, version: row.schema_version ?? undefined };
  }
  let schema = rest.schema;
  if (ref) {
    if (schema) throw invalid(`${prefix}schema_ref`, 'give either schema or schema_ref, not both');
    const row = await findSchema(db, tenantId, ref.name, ref.version);
    if (!row)
      throw notFound(
        `${prefix}schema_ref`,
        `no schema ${ref.name}${ref.version ? ` version ${ref.version}` : ''}`,
      );
    schema = row.schema_definition;
    labels.schema = row.name;
  }
  return {
    ...rest,
    ...(prompt !== undefined ? { prompt } : {}),
    ...(schema ? { schema } : {}),
    labels,
  } as Resolved<T>;
}

function invalid(field: string, reason: string): ServiceError {
  return new ServiceError('INVALID_REQUEST', `${field}: ${reason}`, { fields: [{ field, reason }] });
}

function notFound(field: string, reason: string): ServiceError {
  return new ServiceError('NOT_FOUND', `${field}: ${reason}`, { fields: [{ field, reason: 'not found' }] });
}
