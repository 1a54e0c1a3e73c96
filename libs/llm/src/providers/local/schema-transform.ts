import type { SchemaTransform } from '../../language-model.js';
import {
  drop,
  isPrimitive,
  keep,
  lowerDocument,
  runTransform,
  withDefs,
  type Profile,
  type Schema,
} from '../../schema-transform/index.js';

/**
 * node-llama-cpp `createGrammarForJsonSchema` (GbnfJsonSchema, node-llama-cpp 3.x:
 * https://node-llama-cpp.withcat.ai/guide/grammar#json-schema and its `GbnfJsonSchema` types).
 * The grammar emits every property (`required` is ignored), so optional properties become
 * nullable and their null is restored as absent; `additionalProperties` defaults to false there,
 * so the original's is always written out; unions are `oneOf` (an alternation, not exclusive);
 * a schema without `type` would mean `null`, so every schema gets one ("any" is written out);
 * `prefixItems` are all required by the grammar; only the `date`/`time`/`date-time` formats exist
 * (the last two with a stricter time syntax than RFC 3339, so only `date` is kept); no `pattern`,
 * no numeric bounds. `maxLength` is dropped: node-llama-cpp's own check counts UTF-16 units, so
 * two emoji would exceed `maxLength: 2`; `minLength` is safe (UTF-16 units >= code points).
 */
export const LOCAL_ANY: Schema = {
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'object', additionalProperties: true },
    { type: 'array' },
  ],
};

const IMMUTABLE_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

const LOCAL_PROFILE: Profile = {
  splitTypes: 'always',
  unionKeyword: 'oneOf',
  optional: 'nullable',
  objects: 'explicit',
  recursion: true,
  prefixItems: 'keep-if-required',
  anyAsEntries: false,
  any: LOCAL_ANY,
  itemsOptional: true,
  keepTitle: false,
  typeArrayMember: (type) => IMMUTABLE_TYPES.has(type),
  literal: isPrimitive,
  constAsEnum: false,
  string: localString,
  number: (b, note) =>
    drop(b, ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'], note),
  arrayBounds: (b) => keep(b, ['minItems', 'maxItems']),
};

function localString(branch: Schema, note: (message: string) => void): Schema {
  drop(branch, ['pattern'], note);
  if (branch.format === 'date') return { format: 'date' };
  if (branch.format !== undefined) note(`format "${String(branch.format)}" is dropped`);
  drop(branch, ['maxLength'], note);
  return keep(branch, ['minLength']);
}

export function transformSchema(schema: Record<string, unknown>): SchemaTransform {
  return runTransform(schema, (doc, notes) => withDefs(lowerDocument(doc, LOCAL_PROFILE, notes)));
}
