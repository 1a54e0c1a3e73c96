import type { SchemaTransform } from '../../language-model.js';
import {
  drop,
  keep,
  keepFormat,
  lowerDocument,
  runTransform,
  withDefs,
  type Notes,
  type Profile,
  type Schema,
} from '../../schema-transform/index.js';

/**
 * Gemini `generationConfig.responseJsonSchema`, whose documented subset is: `$id`, `$defs`, `$ref`,
 * `$anchor`, `type`, `format`, `title`, `description`, `enum` (strings and numbers), `items`,
 * `prefixItems`, `minItems`, `maxItems`, `minimum`, `maximum`, `anyOf`, `oneOf` (read as anyOf),
 * `properties`, `additionalProperties`, `required`, `propertyOrdering`; a `$ref` has no siblings
 * but `$` keywords; cycles only through non-required properties
 * (https://ai.google.dev/api/generate-content#generationconfig,
 * https://ai.google.dev/gemini-api/docs/structured-output). Any root type is allowed, optional
 * properties stay optional and additional properties keep their schema: no instance reshaping.
 * Objects get `propertyOrdering` (the caller's order).
 */
export const GEMINI_FORMATS = new Set(['date-time', 'date', 'time']);

const GEMINI_PROFILE: Profile = {
  splitTypes: 'literals',
  unionKeyword: 'anyOf',
  optional: 'keep',
  objects: 'as-is',
  recursion: true,
  prefixItems: 'keep',
  anyAsEntries: false,
  any: {},
  itemsOptional: true,
  keepTitle: true,
  typeArrayMember: () => true,
  literal: (v) => typeof v === 'string' || typeof v === 'number',
  constAsEnum: true,
  string: (b, note) => ({
    ...keepFormat(b, GEMINI_FORMATS, note),
    ...drop(b, ['pattern', 'minLength', 'maxLength'], note),
  }),
  number: numericBounds,
  arrayBounds: (b) => keep(b, ['minItems', 'maxItems']),
};

/** Exclusive bounds become inclusive ones (a loosening); multipleOf is dropped. */
function numericBounds(branch: Schema, note: (message: string) => void): Schema {
  drop(branch, ['multipleOf'], note);
  const out: Schema = {};
  for (const [bound, exclusive, pickBound] of [
    ['minimum', 'exclusiveMinimum', Math.max],
    ['maximum', 'exclusiveMaximum', Math.min],
  ] as const) {
    const values = [branch[bound], branch[exclusive]].filter((v): v is number => typeof v === 'number');
    if (values.length) out[bound] = pickBound(...values);
    if (typeof branch[exclusive] === 'number') note(`${exclusive} is sent as an inclusive ${bound}`);
  }
  return out;
}

export function transformSchema(schema: Record<string, unknown>): SchemaTransform {
  return runTransform(schema, (doc, notes) => {
    const lowered = lowerDocument(doc, GEMINI_PROFILE, notes);
    const adapt = (node: Schema, path: string) =>
      mapObjectSchemas(node, path, (object, at) => orderProperties(releaseRefs(object, notes, at)));
    const defs = Object.fromEntries(
      Object.entries(lowered.defs).map(([name, def]) => [name, adapt(def, `#/$defs/${name}`)]),
    );
    return withDefs({ ...lowered, schema: adapt(lowered.schema, '#'), defs: cutRequiredCycles(defs, notes) });
  });
}

/**
 * Gemini unrolls cycles only through non-required properties: a required property whose schema
 * leads to a `$ref` is made optional (a loosening the final validation makes up for).
 */
function releaseRefs(node: Schema, notes: Notes, path: string): Schema {
  if (!Array.isArray(node.required) || !isRecord(node.properties)) return node;
  const properties = node.properties as Record<string, unknown>;
  const released = node.required.filter((name) => containsRef(properties[String(name)]));
  if (released.length === 0) return node;
  notes.add(
    path,
    `required ${released.join(', ')} made optional: Gemini recurses only through optional properties`,
  );
  return { ...node, required: node.required.filter((name) => !released.includes(name)) };
}

/**
 * A cycle that still crosses no optional property (through array items, unions or map values)
 * cannot be unrolled by Gemini: the `$ref`s closing it become `{}` (any value, a loosening), so
 * the levels below are left to the final validation.
 */
function cutRequiredCycles(defs: Record<string, Schema>, notes: Notes): Record<string, Schema> {
  const edges = new Map(Object.entries(defs).map(([name, def]) => [name, requiredRefNames(def)]));
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
    from === to ||
    (edges.get(from) ?? []).some((next) => !seen.has(next) && (seen.add(next), reaches(next, to, seen)));
  return Object.fromEntries(
    Object.entries(defs).map(([name, def]) => [
      name,
      replaceRequiredRefs(
        def,
        (target) => reaches(target, name),
        () =>
          notes.add(
            `#/$defs/${name}`,
            'a cycle without an optional property is cut: the recursive $ref becomes any value',
          ),
      ),
    ]),
  );
}

/** Walks what Gemini must always generate: required properties, items, unions, map values. */
function requiredPaths(node: Schema): Schema[] {
  const children: unknown[] = [];
  if (isRecord(node.properties) && Array.isArray(node.required))
    for (const name of node.required) children.push(node.properties[String(name)]);
  for (const key of ['items', 'additionalProperties']) children.push(node[key]);
  for (const key of ['prefixItems', 'anyOf'])
    if (Array.isArray(node[key])) children.push(...(node[key] as unknown[]));
  return children.filter(isRecord);
}

function requiredRefNames(node: Schema): string[] {
  if (typeof node.$ref === 'string') return [node.$ref.replace('#/$defs/', '')];
  return requiredPaths(node).flatMap(requiredRefNames);
}

function replaceRequiredRefs(node: Schema, cut: (target: string) => boolean, noteCut: () => void): Schema {
  if (typeof node.$ref === 'string' && cut(node.$ref.replace('#/$defs/', ''))) {
    noteCut();
    return {};
  }
  const required = new Set(Array.isArray(node.required) ? node.required.map(String) : []);
  const walk = (child: unknown) => (isRecord(child) ? replaceRequiredRefs(child, cut, noteCut) : child);
  const out: Schema = { ...node };
  if (isRecord(node.properties))
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([k, v]) => [k, required.has(k) ? walk(v) : v]),
    );
  for (const key of ['items', 'additionalProperties']) if (isRecord(node[key])) out[key] = walk(node[key]);
  for (const key of ['prefixItems', 'anyOf'])
    if (Array.isArray(node[key])) out[key] = (node[key] as unknown[]).map(walk);
  return out;
}

/** `propertyOrdering` keeps the caller's property order in the answer. */
function orderProperties(node: Schema): Schema {
  return isRecord(node.properties) && Object.keys(node.properties).length > 1
    ? { ...node, propertyOrdering: Object.keys(node.properties) }
    : node;
}

/** Applies `fn` to every schema (bottom-up) reachable through properties, items, prefixItems, anyOf and additionalProperties. */
function mapObjectSchemas(node: Schema, path: string, fn: (node: Schema, path: string) => Schema): Schema {
  const out: Schema = { ...node };
  if (isRecord(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([k, v]) => [
        k,
        isRecord(v) ? mapObjectSchemas(v, `${path}/properties/${k}`, fn) : v,
      ]),
    );
  }
  for (const key of ['items', 'additionalProperties'] as const)
    if (isRecord(node[key])) out[key] = mapObjectSchemas(node[key] as Schema, `${path}/${key}`, fn);
  for (const key of ['prefixItems', 'anyOf'] as const) {
    if (Array.isArray(node[key]))
      out[key] = (node[key] as unknown[]).map((v, i) =>
        isRecord(v) ? mapObjectSchemas(v, `${path}/${key}/${i}`, fn) : v,
      );
  }
  return fn(out, path);
}

function containsRef(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(containsRef);
  if (!isRecord(node)) return false;
  return typeof node.$ref === 'string' || Object.values(node).some(containsRef);
}

function isRecord(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
