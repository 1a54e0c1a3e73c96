import type { SchemaTransform } from '../../language-model.js';
import {
  drop,
  isPrimitive,
  keepFormat,
  lowerDocument,
  measureSchema,
  runTransform,
  Unsupported,
  withDefs,
  wrapNonObjectRoot,
  type Lowered,
  type Profile,
  type Schema,
} from '../../schema-transform/index.js';

/**
 * Anthropic structured outputs (`output_config.format` JSON outputs and `strict: true` tools; the
 * same schema works as a forced tool's `input_schema`), as documented in "JSON Schema limitations"
 * (https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations)
 * and applied by the official SDK's `transformJSONSchema`: the root is an object; every object has
 * `additionalProperties: false`; optional properties are allowed; no recursion; no numeric bounds,
 * no string length bounds; `minItems` only 0 or 1; enum and const of primitives; the listed string
 * formats. Limits: 24 optional properties and 16 union-typed properties across the schema.
 */
export const ANTHROPIC_FORMATS = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'uri',
  'ipv4',
  'ipv6',
  'uuid',
]);

const ANTHROPIC_PROFILE: Profile = {
  splitTypes: 'always',
  unionKeyword: 'anyOf',
  optional: 'keep',
  objects: 'closed',
  recursion: false,
  prefixItems: 'fold',
  anyAsEntries: false,
  any: undefined,
  itemsOptional: false,
  keepTitle: true,
  typeArrayMember: () => true,
  literal: isPrimitive,
  constAsEnum: false,
  string: (b, note) => ({
    ...keepFormat(b, ANTHROPIC_FORMATS, note),
    ...drop(b, ['pattern', 'minLength', 'maxLength'], note),
  }),
  number: (b, note) =>
    drop(b, ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'], note),
  arrayBounds: minItemsAtMostOne,
};

/** `minItems: n` (n > 1) becomes `minItems: 1`: every array of n items also has one. */
function minItemsAtMostOne(branch: Schema, note: (message: string) => void): Schema {
  drop(branch, ['maxItems'], note);
  if (typeof branch.minItems !== 'number' || branch.minItems < 1) return {};
  if (branch.minItems > 1) note(`minItems ${branch.minItems} is sent as 1`);
  return { minItems: 1 };
}

export const ANTHROPIC_LIMITS = { optionalProperties: 24, unionProperties: 16 };

export function transformSchema(schema: Record<string, unknown>): SchemaTransform {
  return runTransform(schema, (doc, notes) => {
    const lowered = withDefs(wrapNonObjectRoot(lowerDocument(doc, ANTHROPIC_PROFILE, notes), notes));
    checkLimits(lowered);
    return lowered;
  });
}

function checkLimits({ schema }: Lowered): void {
  const size = measureSchema(schema);
  for (const [key, limit] of Object.entries(ANTHROPIC_LIMITS)) {
    const value = size[key as keyof typeof ANTHROPIC_LIMITS];
    if (value > limit) throw new Unsupported(`${value} ${key} exceed Anthropic's limit of ${limit}`);
  }
}
