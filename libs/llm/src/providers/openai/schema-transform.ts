import type { SchemaTransform } from '../../language-model.js';
import {
  drop,
  isPrimitive,
  keep,
  keepAnchoredPattern,
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
 * OpenAI Structured Outputs, strict mode (`response_format: {type: "json_schema", json_schema:
 * {strict: true}}`), as documented in "Supported schemas"
 * (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas): the root is an
 * object (not anyOf); every object has `additionalProperties: false` and lists every property in
 * `required`; `anyOf`, `$defs` and recursive `$ref` are allowed; strings keep `pattern` and the
 * listed formats, numbers their bounds and `multipleOf`, arrays `minItems`/`maxItems`; `allOf`,
 * `not`, `if`/`then`/`else`, `dependent*`, `patternProperties`, `prefixItems`... are not. Limits:
 * 5,000 properties, 10 levels of nesting, 1,000 enum values, 120,000 characters of names and values.
 */
export const OPENAI_FORMATS = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uuid',
]);

const OPENAI_PROFILE: Profile = {
  splitTypes: 'always',
  unionKeyword: 'anyOf',
  optional: 'nullable',
  objects: 'closed',
  recursion: true,
  prefixItems: 'fold',
  anyAsEntries: true,
  any: undefined,
  itemsOptional: false,
  keepTitle: true,
  typeArrayMember: () => true,
  literal: isPrimitive,
  constAsEnum: false,
  string: (b, note) => ({
    ...keepFormat(b, OPENAI_FORMATS, note),
    ...keepAnchoredPattern(b, note),
    ...drop(b, ['minLength', 'maxLength'], note),
  }),
  number: (b) => keep(b, ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']),
  arrayBounds: (b) => keep(b, ['minItems', 'maxItems']),
};

export const OPENAI_LIMITS = {
  properties: 5_000,
  objectDepth: 10,
  enumValues: 1_000,
  stringLength: 120_000,
  largeEnumLength: 15_000,
};

export function transformSchema(schema: Record<string, unknown>): SchemaTransform {
  return runTransform(schema, (doc, notes) => {
    const lowered = withDefs(wrapNonObjectRoot(lowerDocument(doc, OPENAI_PROFILE, notes), notes));
    checkLimits(lowered);
    return lowered;
  });
}

function checkLimits({ schema }: Lowered): void {
  const size = measureSchema(schema as Schema);
  for (const [key, limit] of Object.entries(OPENAI_LIMITS)) {
    const value = size[key as keyof typeof OPENAI_LIMITS];
    if (value > limit) throw new Unsupported(`${key} ${value} exceeds OpenAI's limit of ${limit}`);
  }
}
