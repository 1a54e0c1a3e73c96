import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ServiceError, contentHash, type ErrorDetail } from '@sps/contracts';

const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

export interface CompiledSchema {
  hash: string;
  schema: Record<string, unknown>;
  validate(instance: unknown): ErrorDetail[];
}

/**
 * Compiles user schemas once and keeps them by content hash. No remote `$ref` is ever fetched:
 * ajv has no loader, so an unresolved reference is a compile error (INVALID_SCHEMA).
 */
export class SchemaCompiler {
  private readonly cache = new Map<string, CompiledSchema>();
  private readonly ajv: Ajv2020;

  constructor(private readonly maxEntries = 1_000) {
    this.ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: true, addUsedSchema: false });
    addFormats(this.ajv);
  }

  compile(schema: Record<string, unknown>): CompiledSchema {
    const hash = contentHash(schema);
    const cached = this.cache.get(hash);
    if (cached) return cached;
    let validateFn: ValidateFunction;
    try {
      validateFn = this.ajv.compile(schema);
    } catch (error) {
      throw new ServiceError('INVALID_SCHEMA', `schema cannot be compiled: ${(error as Error).message}`);
    }
    const compiled: CompiledSchema = {
      hash,
      schema,
      validate: (instance) => (validateFn(instance) ? [] : (validateFn.errors ?? []).map(toErrorDetail)),
    };
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, compiled);
    return compiled;
  }
}

function toErrorDetail(error: ErrorObject): ErrorDetail {
  const path = error.instancePath.split('/').filter(Boolean).join('.') || '$';
  const missing = error.keyword === 'required' ? ` '${String(error.params.missingProperty)}'` : '';
  return {
    path,
    message: `${error.message ?? 'is invalid'}${missing}`,
    schema_path: error.schemaPath.replace(/^#\//, '').split('/').join('.'),
  };
}
