import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ServiceError, UserSchema } from '@sps/contracts';
import { addSchemaVersion, deprecateSchema, findSchema, listSchemas, type Database } from '@sps/db';
import type { SchemaCompiler } from '@sps/llm';
import { checkSchemaLimits } from '../input-limits.js';
import { RegistryName, Version } from '../schemas/common.js';
import { authenticatedErrors, bodyErrors } from '../schemas/errors.js';

const Name = RegistryName;
const SchemaRecord = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  description: Type.Union([Type.String(), Type.Null()]),
  schema: Type.Record(Type.String(), Type.Unknown()),
  deprecated: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
});
const NewVersion = Type.Object(
  { schema: UserSchema, description: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
const NewSchema = Type.Composite([Type.Object({ name: Name }), NewVersion], { additionalProperties: false });
const ByName = Type.Object({ name: Name });
const ByVersion = Type.Object({ name: Name, version: Version() });

/** A per-tenant schema registry: names with immutable versions that requests can reference. */
export const schemaRoutes: FastifyPluginAsyncTypebox<{ db: Database; compiler: SchemaCompiler }> = async (
  app,
  { db, compiler },
) => {
  const validated = (schema: Record<string, unknown>) => {
    checkSchemaLimits(schema);
    compiler.compile(schema); // INVALID_SCHEMA (400) with the validator's message
    return schema;
  };

  app.post(
    '/v1/schemas',
    {
      schema: {
        tags: ['schemas'],
        summary: 'Register a schema (version 1)',
        body: NewSchema,
        response: { 201: SchemaRecord, ...bodyErrors(409) },
      },
    },
    async (request, reply) => {
      const result = await addSchemaVersion(db, {
        tenantId: request.principal.tenantId,
        apiKeyId: request.principal.apiKeyId,
        name: request.body.name,
        description: request.body.description,
        definition: validated(request.body.schema),
        expectNew: true,
      });
      if (result.conflict)
        throw new ServiceError(
          'CONFLICT',
          `schema ${request.body.name} exists (version ${result.current}); add a version instead`,
        );
      return reply.code(201).send(view(result.row));
    },
  );

  app.post(
    '/v1/schemas/:name/versions',
    {
      schema: {
        tags: ['schemas'],
        summary: 'Add a new version of a schema',
        params: ByName,
        body: NewVersion,
        response: { 201: SchemaRecord, ...bodyErrors(404) },
      },
    },
    async (request, reply) => {
      const result = await addSchemaVersion(db, {
        tenantId: request.principal.tenantId,
        apiKeyId: request.principal.apiKeyId,
        name: request.params.name,
        description: request.body.description,
        definition: validated(request.body.schema),
        expectNew: false,
      });
      if (result.conflict) throw new ServiceError('NOT_FOUND', `no schema ${request.params.name}`);
      return reply.code(201).send(view(result.row));
    },
  );

  app.get(
    '/v1/schemas',
    {
      schema: {
        tags: ['schemas'],
        summary: 'List schemas (latest version of each)',
        response: { 200: Type.Object({ schemas: Type.Array(SchemaRecord) }), ...authenticatedErrors() },
      },
    },
    async (request) => ({ schemas: (await listSchemas(db, request.principal.tenantId)).map(view) }),
  );

  app.get(
    '/v1/schemas/:name',
    {
      schema: {
        tags: ['schemas'],
        summary: 'The latest non-deprecated version',
        params: ByName,
        response: { 200: SchemaRecord, ...authenticatedErrors(404) },
      },
    },
    async (request) =>
      view(await found(findSchema(db, request.principal.tenantId, request.params.name), request.params.name)),
  );

  app.get(
    '/v1/schemas/:name/versions/:version',
    {
      schema: {
        tags: ['schemas'],
        summary: 'One version',
        params: ByVersion,
        response: { 200: SchemaRecord, ...authenticatedErrors(404) },
      },
    },
    async (request) => {
      const { name, version } = request.params;
      return view(
        await found(findSchema(db, request.principal.tenantId, name, version), `${name} version ${version}`),
      );
    },
  );

  app.post(
    '/v1/schemas/:name/versions/:version/deprecate',
    {
      schema: {
        tags: ['schemas'],
        summary: 'Deprecate a version',
        params: ByVersion,
        response: { 200: SchemaRecord, ...bodyErrors(404) },
      },
    },
    async (request) => {
      const { name, version } = request.params;
      return view(
        await found(
          deprecateSchema(db, request.principal.tenantId, name, version),
          `${name} version ${version}`,
        ),
      );
    },
  );
};

async function found<T>(lookup: Promise<T | undefined>, what: string): Promise<T> {
  const row = await lookup;
  if (!row) throw new ServiceError('NOT_FOUND', `no schema ${what}`);
  return row;
}

function view(row: {
  name: string;
  version: number;
  description: string | null;
  schema_definition: Record<string, unknown>;
  is_deprecated: boolean;
  created_at: Date | string;
}) {
  return {
    name: row.name,
    version: row.version,
    description: row.description,
    schema: row.schema_definition,
    deprecated: row.is_deprecated,
    created_at: new Date(row.created_at).toISOString(),
  };
}
