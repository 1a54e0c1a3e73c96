/** Keywords whose value is one subschema (every draft). */
export const SINGLE_SUBSCHEMA = [
  'additionalItems',
  'additionalProperties',
  'contains',
  'contentSchema',
  'else',
  'if',
  'not',
  'propertyNames',
  'then',
  'unevaluatedItems',
  'unevaluatedProperties',
] as const;

/** Keywords whose value is a list of subschemas (`items` only in its draft-04..2019-09 tuple form). */
export const LIST_SUBSCHEMA = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'] as const;

/** Keywords whose value maps names to subschemas (`dependencies` only for its schema values). */
export const MAP_SUBSCHEMA = [
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies',
  'patternProperties',
  'properties',
] as const;

/** Keywords that only describe: kept where the provider accepts them, never a constraint. */
export const ANNOTATIONS = ['title', 'description'] as const;

/** Keywords dropped without a note: they never constrain an instance. */
export const SILENT_DROPS = new Set([
  '$schema',
  '$id',
  'id',
  '$anchor',
  '$dynamicAnchor',
  '$recursiveAnchor',
  '$comment',
  '$vocabulary',
  '$defs',
  'definitions',
  'default',
  'examples',
  'readOnly',
  'writeOnly',
  'deprecated',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
  'propertyOrdering',
  'nullable',
]);

/** The keywords of the provider-neutral core each instance type uses. */
export const TYPE_KEYWORDS = {
  string: ['minLength', 'maxLength', 'pattern', 'format'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  array: ['prefixItems', 'items', 'minItems', 'maxItems'],
  object: ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties'],
  boolean: [],
  null: [],
} as const satisfies Record<string, readonly string[]>;

/** Every keyword the core keeps; anything else is dropped by `simplify`. */
export const CORE_KEYWORDS = new Set<string>([
  ...ANNOTATIONS,
  'type',
  'enum',
  'const',
  'anyOf',
  '$ref',
  ...Object.values(TYPE_KEYWORDS).flat(),
]);
