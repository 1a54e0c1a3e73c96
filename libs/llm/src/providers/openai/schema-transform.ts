import type { SchemaTransform } from '../../language-model.js';
import {
  drop,
  isPrimitive,
  keep,
  keepAnchoredPattern,
  keepFormat,
  lowerDocument,
  measureSchema,
  Notes,
  runTransform,
  Unsupported,
  withDefs,
  wrapNonObjectRoot,
  type LowerOptions,
  type LoweringReport,
  type Profile,
  type SchemaSize,
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
 *
 * Past a limit the schema stays native where it can: objects nested deeper than the limit are sent
 * as a string holding their JSON text (parsed by restore); the largest enums are sent as their type
 * with the values listed in the description (the final validation checks them); a schema whose
 * references would multiply past the subschema budget keeps its `$defs`.
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

/** Lowerings tried before giving up: the first within the limits is sent. */
const MAX_ATTEMPTS = 3;

export function transformSchema(schema: Record<string, unknown>): SchemaTransform {
  return runTransform(schema, (doc, notes) => {
    let options: LowerOptions = { maxObjectDepth: OPENAI_LIMITS.objectDepth };
    let over = '';
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const own = new Notes();
      const document = wrapNonObjectRoot(lowerDocument(doc, OPENAI_PROFILE, own, options), own);
      const lowered = withDefs(document);
      const size = measureSchema(lowered.schema);
      over = overLimits(size);
      if (!over) {
        notes.absorb(own);
        return lowered;
      }
      options = {
        // A wrapped root adds a level.
        maxObjectDepth:
          (options.maxObjectDepth ?? 0) - (size.objectDepth > OPENAI_LIMITS.objectDepth ? 1 : 0),
        listedEnums: new Set([...(options.listedEnums ?? []), ...enumsToList(document.report, size)]),
      };
    }
    throw new Unsupported(over);
  });
}

function overLimits(size: SchemaSize): string {
  for (const [key, limit] of Object.entries(OPENAI_LIMITS)) {
    const value = size[key as keyof typeof OPENAI_LIMITS];
    if (value > limit) return `${key} ${value} exceeds OpenAI's limit of ${limit}`;
  }
  return '';
}

/**
 * The enums to send as a listed description: every string enum over the per-enum length limit,
 * then the largest ones until the value count and the total characters are within the limits.
 */
function enumsToList(report: LoweringReport, size: SchemaSize): string[] {
  const chosen: string[] = [];
  let values = size.enumValues;
  let characters = size.stringLength;
  const bySize = [...report.enums].sort((a, b) => b.count - a.count || b.length - a.length);
  for (const e of bySize) {
    const tooLong = e.count > 250 && e.length > OPENAI_LIMITS.largeEnumLength;
    if (!tooLong && values <= OPENAI_LIMITS.enumValues && characters <= OPENAI_LIMITS.stringLength) continue;
    chosen.push(e.path);
    values -= e.count;
    characters -= e.length;
  }
  return chosen;
}
