import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIMITS, ServiceError } from '@sps/contracts';
import { addTemplateVersion, findSchema, findTemplate, listTemplates, type Database } from '@sps/db';
import { templateParameters } from '@sps/processing';
import { SchemaRef } from '../schema-ref.js';
import { RegistryName, Version } from '../schemas/common.js';
import { authenticatedErrors, bodyErrors } from '../schemas/errors.js';

const Name = RegistryName;
const TemplateRecord = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  description: Type.Union([Type.String(), Type.Null()]),
  template: Type.String(),
  parameters: Type.Array(Type.String()),
  schema_ref: Type.Union([
    Type.Object({ name: Type.String(), version: Type.Optional(Type.Integer()) }),
    Type.Null(),
  ]),
  created_at: Type.String({ format: 'date-time' }),
});
const NewVersion = Type.Object(
  {
    template: Type.String({
      minLength: 1,
      maxLength: LIMITS.promptMaxChars,
      description: 'text with {{parameter}} placeholders',
    }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    schema_ref: Type.Optional(SchemaRef),
  },
  { additionalProperties: false, examples: [{ template: 'Extract the {{field}} from: {{document}}' }] },
);
const NewTemplate = Type.Composite([Type.Object({ name: Name }), NewVersion], {
  additionalProperties: false,
});

/** Per-tenant prompt templates with `{{name}}` parameters, versioned like schemas. */
export const templateRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const add = async (tenantId: string, name: string, body: typeof NewVersion.static, expectNew: boolean) => {
    if (body.schema_ref && !(await findSchema(db, tenantId, body.schema_ref.name, body.schema_ref.version))) {
      throw new ServiceError('NOT_FOUND', `schema_ref: no schema ${body.schema_ref.name}`, {
        fields: [{ field: 'schema_ref', reason: 'not found' }],
      });
    }
    return addTemplateVersion(db, {
      tenantId,
      name,
      description: body.description,
      text: body.template,
      parameters: templateParameters(body.template),
      schemaRef: body.schema_ref,
      expectNew,
    });
  };

  app.post(
    '/v1/templates',
    {
      schema: {
        tags: ['templates'],
        summary: 'Register a template (version 1)',
        body: NewTemplate,
        response: { 201: TemplateRecord, ...bodyErrors(404, 409) },
      },
    },
    async (request, reply) => {
      const { name, ...body } = request.body;
      const result = await add(request.principal.tenantId, name, body, true);
      if (result.conflict)
        throw new ServiceError(
          'CONFLICT',
          `template ${name} exists (version ${result.current}); add a version instead`,
        );
      return reply.code(201).send(view(result.row));
    },
  );

  app.post(
    '/v1/templates/:name/versions',
    {
      schema: {
        tags: ['templates'],
        summary: 'Add a new version of a template',
        params: Type.Object({ name: Name }),
        body: NewVersion,
        response: { 201: TemplateRecord, ...bodyErrors(404) },
      },
    },
    async (request, reply) => {
      const result = await add(request.principal.tenantId, request.params.name, request.body, false);
      if (result.conflict) throw new ServiceError('NOT_FOUND', `no template ${request.params.name}`);
      return reply.code(201).send(view(result.row));
    },
  );

  app.get(
    '/v1/templates',
    {
      schema: {
        tags: ['templates'],
        summary: 'List templates (latest version of each)',
        response: {
          200: Type.Object({ templates: Type.Array(TemplateRecord) }),
          ...authenticatedErrors(),
        },
      },
    },
    async (request) => ({ templates: (await listTemplates(db, request.principal.tenantId)).map(view) }),
  );

  const get = async (tenantId: string, name: string, version?: number) => {
    const row = await findTemplate(db, tenantId, name, version);
    if (!row)
      throw new ServiceError('NOT_FOUND', `no template ${name}${version ? ` version ${version}` : ''}`);
    return view(row);
  };

  app.get(
    '/v1/templates/:name',
    {
      schema: {
        tags: ['templates'],
        summary: 'The latest version',
        params: Type.Object({ name: Name }),
        response: { 200: TemplateRecord, ...authenticatedErrors(404) },
      },
    },
    async (request) => get(request.principal.tenantId, request.params.name),
  );

  app.get(
    '/v1/templates/:name/versions/:version',
    {
      schema: {
        tags: ['templates'],
        summary: 'One version',
        params: Type.Object({ name: Name, version: Version() }),
        response: { 200: TemplateRecord, ...authenticatedErrors(404) },
      },
    },
    async (request) => get(request.principal.tenantId, request.params.name, request.params.version),
  );
};

function view(row: {
  name: string;
  version: number;
  description: string | null;
  template_text: string;
  parameters: unknown;
  schema_name: string | null;
  schema_version: number | null;
  created_at: Date | string;
}) {
  return {
    name: row.name,
    version: row.version,
    description: row.description,
    template: row.template_text,
    parameters: row.parameters as string[],
    schema_ref: row.schema_name
      ? { name: row.schema_name, ...(row.schema_version ? { version: row.schema_version } : {}) }
      : null,
    created_at: new Date(row.created_at).toISOString(),
  };
}
