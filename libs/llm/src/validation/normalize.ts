import type { JsonSchemaDraft } from './draft.js';

/**
 * Harmless defects of real-world schemas that a reference validator accepts but ajv refuses to
 * compile, repaired in the copy ajv compiles (the caller's schema is never changed). Each repair is
 * recorded as a note (CompiledSchema.notes) so a caller can see what was read differently:
 *
 * - a draft-04 `id` in a draft-06 or later schema: an unknown keyword there, which ajv refuses
 *   ("NOT SUPPORTED"): removed;
 * - the same id (or anchor) on two subschemas: every occurrence after the first (in document order)
 *   loses its id, so a reference resolves to the first, as reference validators resolve it;
 * - duplicate items in `enum`, `required` or `type`, which the meta-schemas refuse: removed (the set
 *   of valid instances is the same);
 * - an empty `required` in draft-04, whose meta-schema requires one item: removed (it requires nothing).
 */

/** Keywords whose values are instances or scalars, never schemas (json-schema-traverse's skip list). */
const NOT_SCHEMAS = new Set([
  'const',
  'default',
  'enum',
  'examples',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'format',
  'maxItems',
  'maxLength',
  'maxProperties',
  'maximum',
  'minItems',
  'minLength',
  'minProperties',
  'minimum',
  'multipleOf',
  'pattern',
  'required',
  'uniqueItems',
]);
const ARRAY_KEYWORDS = new Set(['allOf', 'anyOf', 'items', 'oneOf', 'prefixItems']);
const MAP_KEYWORDS = new Set([
  '$defs',
  'definitions',
  'dependencies',
  'dependentSchemas',
  'patternProperties',
  'properties',
]);

const SCHEMA_KEYWORDS = [
  'additionalItems',
  'additionalProperties',
  'contains',
  'contentSchema',
  'else',
  'if',
  'items',
  'not',
  'propertyNames',
  'then',
  'unevaluatedItems',
  'unevaluatedProperties',
];

/** Visits every schema object of a schema (not values such as `const`, `enum`, `default`). */
export function forEachSubschema(
  schema: unknown,
  visit: (schema: Record<string, unknown>, pointer: string) => void,
  pointer = '',
): void {
  if (!isObject(schema)) return;
  visit(schema, pointer);
  for (const keyword of SCHEMA_KEYWORDS)
    if (isObject(schema[keyword])) forEachSubschema(schema[keyword], visit, `${pointer}/${keyword}`);
  for (const keyword of ARRAY_KEYWORDS) {
    const value = schema[keyword];
    if (Array.isArray(value))
      for (const [index, item] of value.entries())
        forEachSubschema(item, visit, `${pointer}/${keyword}/${index}`);
  }
  for (const keyword of MAP_KEYWORDS) {
    const value = schema[keyword];
    if (isObject(value))
      for (const [name, item] of Object.entries(value))
        forEachSubschema(item, visit, `${pointer}/${keyword}/${escapePointer(name)}`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Repairs the defects listed above in `copy` (in place); returns one note per repair. */
export function normalizeDefects(copy: Record<string, unknown>, draft: JsonSchemaDraft): string[] {
  const notes: string[] = [];
  const idKeyword = draft === 'draft-04' ? 'id' : '$id';
  forEachSubschema(copy, (sub, pointer) => {
    const at = pointer || '/';
    if (draft !== 'draft-04' && Object.hasOwn(sub, 'id')) {
      delete sub.id;
      notes.push(`${at}: draft-04 keyword "id" ignored in a ${draft} schema (the draft spells it "$id")`);
    }
    for (const keyword of ['enum', 'required', 'type'] as const) {
      const value = sub[keyword];
      if (!Array.isArray(value)) continue;
      const unique = dedupe(value);
      if (unique.length < value.length) {
        sub[keyword] = unique;
        notes.push(`${pointer}/${keyword}: ${value.length - unique.length} duplicate item(s) removed`);
      }
    }
    if (draft === 'draft-04' && Array.isArray(sub.required) && sub.required.length === 0) {
      delete sub.required;
      notes.push(`${pointer}/required: empty list removed (draft-04 requires at least one item)`);
    }
  });
  removeDuplicateIds(copy, idKeyword, draft, notes);
  return notes;
}

function dedupe(values: unknown[]): unknown[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = canonical(value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** JSON with object keys sorted: equal for values ajv's deep equality calls equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'undefined';
}

const NO_BASE = 'https://schema.invalid/root.json';

function resolve(ref: string, base: string): string {
  try {
    return new URL(ref, base).href.replace(/#\/?$/, '');
  } catch {
    return ref;
  }
}

/**
 * Walks the schema as ajv registers ids (every key but values, see json-schema-traverse with
 * allKeys) and removes the id or anchor of each subschema that resolves to an id seen before.
 */
function removeDuplicateIds(
  root: Record<string, unknown>,
  idKeyword: 'id' | '$id',
  draft: JsonSchemaDraft,
  notes: string[],
): void {
  const rootId = typeof root[idKeyword] === 'string' ? (root[idKeyword] as string) : '';
  const rootBase = resolve(rootId, NO_BASE);
  const seen = new Map<string, string>([[rootBase, '/']]);
  const anchors = draft === '2019-09' || draft === '2020-12';
  const walk = (node: Record<string, unknown>, base: string, pointer: string): void => {
    let here = base;
    const id = node[idKeyword];
    if (pointer !== '' && typeof id === 'string') {
      const key = resolve(id, base);
      const first = seen.get(key);
      if (first !== undefined) {
        delete node[idKeyword];
        notes.push(`${pointer}: duplicate ${idKeyword} "${id}" ignored (first at ${first})`);
      } else seen.set(key, pointer);
      here = key;
    }
    if (anchors && pointer !== '') {
      for (const keyword of ['$anchor', '$dynamicAnchor']) {
        const anchor = node[keyword];
        if (typeof anchor !== 'string') continue;
        const key = `${here.replace(/#.*$/, '')}#${anchor}#${keyword}`;
        const first = seen.get(key);
        if (first !== undefined) {
          delete node[keyword];
          notes.push(`${pointer}: duplicate ${keyword} "${anchor}" ignored (first at ${first})`);
        } else seen.set(key, pointer);
      }
    }
    for (const [key, value] of Object.entries(node)) {
      if (NOT_SCHEMAS.has(key)) continue;
      const at = `${pointer}/${escapePointer(key)}`;
      if (ARRAY_KEYWORDS.has(key) && Array.isArray(value)) {
        value.forEach((item, index) => {
          if (isObject(item)) walk(item, here, `${at}/${index}`);
        });
      } else if (MAP_KEYWORDS.has(key) && isObject(value)) {
        for (const [name, item] of Object.entries(value))
          if (isObject(item)) walk(item, here, `${at}/${escapePointer(name)}`);
      } else if (isObject(value)) walk(value, here, at);
    }
  };
  walk(root, rootBase, '');
}
