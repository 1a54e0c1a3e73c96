import { checkCommon, isPlainObject, resolveLocalRef, walkSchema } from './openai.js';

/**
 * Gemini `generationConfig.responseJsonSchema`: the documented subset
 * (https://ai.google.dev/api/generate-content#generationconfig): `$id`, `$defs`, `$ref`, `$anchor`,
 * `type`, `format`, `title`, `description`, `enum` (strings and numbers), `items`, `prefixItems`,
 * `minItems`, `maxItems`, `minimum`, `maximum`, `anyOf`, `oneOf`, `properties`,
 * `additionalProperties`, `required`, `propertyOrdering`. The real API ignores some other keywords;
 * this fake is stricter and rejects them, so transforms must drop them. A `$ref` has no siblings
 * but `$` keywords; a cycle must pass through a non-required property.
 */
type Schema = Record<string, unknown>;

export const GEMINI_KEYWORDS = new Set([
  '$id',
  '$defs',
  '$ref',
  '$anchor',
  'type',
  'format',
  'title',
  'description',
  'enum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'anyOf',
  'oneOf',
  'properties',
  'additionalProperties',
  'required',
  'propertyOrdering',
]);

/** Violations of Gemini's responseJsonSchema subset (empty: the API accepts the schema). */
export function checkGeminiSchema(schema: Record<string, unknown>): string[] {
  const out: string[] = [];
  walkSchema(schema, (v) => {
    if (v.keyword === 'additionalProperties' && typeof v.node === 'boolean') return;
    if (!checkCommon(schema, v, GEMINI_KEYWORDS, out)) return;
    checkGeminiNode(v.node, v.path, out);
  });
  for (const cycle of requiredCycles(schema))
    out.push(
      `#: cyclic $ref ${cycle} only passes through required properties (only non-required properties may recurse)`,
    );
  return out;
}

function checkGeminiNode(node: Schema, path: string, out: string[]): void {
  if (Array.isArray(node.enum) && !node.enum.every((v) => typeof v === 'string' || typeof v === 'number'))
    out.push(`${path}: enum values must be strings or numbers`);
  if (typeof node.$ref === 'string') {
    const siblings = Object.keys(node).filter((k) => !k.startsWith('$'));
    if (siblings.length) out.push(`${path}: a schema with $ref may not set ${siblings.join(', ')}`);
  }
}

/**
 * `$ref` targets reachable from themselves without crossing a non-required property. Edges are
 * the `$ref`s inside a target's schema, marked by whether the path to them crosses an optional property.
 */
function requiredCycles(root: Schema): string[] {
  const found: string[] = [];
  const stack: unknown[] = [];
  const visit = (target: unknown, ref: string) => {
    if (stack.includes(target)) {
      found.push(ref);
      return;
    }
    stack.push(target);
    for (const next of requiredRefs(target)) {
      const resolved = resolveLocalRef(root, next);
      if (resolved !== undefined) visit(resolved, next);
    }
    stack.pop();
  };
  visit(root, '#');
  for (const [name, def] of Object.entries(isPlainObject(root.$defs) ? root.$defs : {}))
    if (!found.includes(`#/$defs/${name}`)) visit(def, `#/$defs/${name}`);
  return [...new Set(found)];
}

/** The `$ref`s of a schema reached without crossing a non-required property (items, unions and map values included). */
function requiredRefs(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(requiredRefs);
  if (!isPlainObject(node)) return [];
  if (typeof node.$ref === 'string') return [node.$ref];
  const refs: string[] = [];
  const required = Array.isArray(node.required) ? node.required : [];
  if (isPlainObject(node.properties)) {
    for (const [name, sub] of Object.entries(node.properties))
      if (required.includes(name)) refs.push(...requiredRefs(sub));
  }
  for (const key of ['items', 'prefixItems', 'anyOf', 'oneOf', 'additionalProperties'])
    refs.push(...requiredRefs(node[key]));
  return refs;
}
