import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

const addFormats =
  (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

/**
 * Bodies are validated strictly (a JSON "3" is not a number; unknown fields are refused by the
 * schemas); query strings, path parameters and headers are text, so there numbers and booleans
 * are coerced from their text form.
 */
export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const strict = withFormats(
    new Ajv({
      allErrors: true,
      coerceTypes: false,
      removeAdditional: false,
      useDefaults: true,
      strict: false,
    }),
  );
  const coercing = withFormats(
    new Ajv({
      allErrors: true,
      coerceTypes: 'array',
      removeAdditional: false,
      useDefaults: true,
      strict: false,
    }),
  );
  // Fastify compiles each route's schemas once, at start-up.
  return ({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema as object) as ReturnType<
      FastifySchemaCompiler<FastifySchema>
    >;
}

function withFormats(ajv: Ajv): Ajv {
  addFormats(ajv);
  return ajv;
}
