import type { SchemaTransform } from '../language-model.js';
import type { CoreDocument } from './core.js';
import { isObject } from './json.js';
import type { Lowered } from './lower.js';
import { Notes, Unsupported } from './notes.js';
import { resolveSchema } from './resolve-refs.js';
import { simplifyDocument } from './simplify.js';

const identity = (instance: unknown) => instance;

/**
 * Runs the shared steps (draft normalisation, `$ref` inlining, loosening to the core) and then the
 * provider's lowering. Never throws: a schema with no native form gets `providerSchema: undefined`
 * (JSON mode, schema in the prompt), with the reason in the notes.
 */
export function runTransform(
  schema: Record<string, unknown>,
  lower: (doc: CoreDocument, notes: Notes) => Lowered,
): SchemaTransform {
  const notes = new Notes();
  try {
    if (!isObject(schema)) throw new Unsupported('the schema is not a JSON object');
    const lowered = lower(simplifyDocument(resolveSchema(schema), notes), notes);
    return {
      providerSchema: lowered.schema,
      restore: lowered.codec.restore,
      encode: lowered.codec.encode,
      notes: notes.list,
    };
  } catch (error) {
    const reason =
      error instanceof Unsupported
        ? error.message
        : `internal error: ${(error as Error)?.message ?? String(error)}`;
    notes.add('#', `sent without a native schema (JSON mode): ${reason}`);
    return { providerSchema: undefined, restore: identity, encode: identity, notes: notes.list };
  }
}
