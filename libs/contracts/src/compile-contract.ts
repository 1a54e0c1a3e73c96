import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';

// ajv-formats ships CommonJS; under ESM its default export sits one level down.
const addFormats =
  (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

export type ContractCheck<T extends TSchema> =
  { ok: true; value: Static<T> } | { ok: false; errors: { path: string; message: string }[] };

/** A validator for one message contract, compiled once. */
export function compileContract<T extends TSchema>(schema: T): (value: unknown) => ContractCheck<T> {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (value) => {
    if (validate(value)) return { ok: true, value: value as Static<T> };
    return {
      ok: false,
      errors: (validate.errors ?? []).map((e) => ({
        path: e.instancePath || '/',
        message: e.message ?? 'invalid',
      })),
    };
  };
}
