import {
  checkCommon,
  isPlainObject,
  isPrimitiveValue,
  resolveLocalRef,
  typesOf,
  walkSchema,
} from './openai.js';

/**
 * Anthropic structured outputs (`output_config.format`, strict tools): the schema rules the real
 * API answers 400 for, from "JSON Schema limitations"
 * (https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations)
 * and the official SDK's `transformJSONSchema`: no recursion, no numeric bounds, no string length
 * bounds, `minItems` 0 or 1 only, `additionalProperties: false` on every object, primitive enums,
 * listed formats; at most 24 optional and 16 union-typed properties.
 */
type Schema = Record<string, unknown>;

export const ANTHROPIC_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  'allOf',
  '$ref',
  '$defs',
  'definitions',
  'description',
  'title',
  'format',
  'pattern',
  'minItems',
]);
export const ANTHROPIC_STRING_FORMATS = new Set([
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
export const ANTHROPIC_LIMITS = { optionalProperties: 24, unionProperties: 16 };

/** Violations of Anthropic's structured-output schema rules (empty: the API accepts the schema). */
export function checkAnthropicSchema(schema: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (!isPlainObject(schema) || schema.type !== 'object')
    out.push('#: the root schema must have type "object"');
  const size = { optionalProperties: 0, unionProperties: 0 };
  walkSchema(schema, (v) => {
    if (!checkCommon(schema, v, ANTHROPIC_KEYWORDS, out)) return;
    checkAnthropicNode(v.node, v.path, out);
    countParameters(v.node, size);
  });
  if (findCycle(schema)) out.push(`#: recursive schemas are not supported (${findCycle(schema)})`);
  for (const [key, limit] of Object.entries(ANTHROPIC_LIMITS)) {
    const value = size[key as keyof typeof size];
    if (value > limit) out.push(`#: ${value} ${key}, over the limit of ${limit}`);
  }
  return out;
}

function checkAnthropicNode(node: Schema, path: string, out: string[]): void {
  const types = typesOf(node);
  if (!types.length && ['anyOf', 'allOf', 'enum', 'const', '$ref'].every((k) => node[k] === undefined))
    out.push(`${path}: schema must have a type`);
  if (typeof node.$ref === 'string' && !node.$ref.startsWith('#'))
    out.push(`${path}: external $ref is not supported`);
  if (Array.isArray(node.enum) && !node.enum.every(isPrimitiveValue))
    out.push(`${path}: enum values must be primitives`);
  if ('const' in node && !isPrimitiveValue(node.const)) out.push(`${path}: const must be a primitive`);
  if (node.minItems !== undefined && node.minItems !== 0 && node.minItems !== 1)
    out.push(`${path}: minItems values other than 0 or 1 are not supported`);
  if (typeof node.format === 'string' && !ANTHROPIC_STRING_FORMATS.has(node.format))
    out.push(`${path}: format '${node.format}' is not supported`);
  if (typeof node.pattern === 'string' && /\(\?<?[=!]|\\[1-9]|\\k</.test(node.pattern))
    out.push(`${path}: lookaround and backreferences are not supported in pattern`);
  if ((types.includes('object') || isPlainObject(node.properties)) && node.additionalProperties !== false) {
    out.push(`${path}: additionalProperties must be explicitly set to false`);
  }
}

function countParameters(node: Schema, size: { optionalProperties: number; unionProperties: number }): void {
  if (!isPlainObject(node.properties)) return;
  const required = Array.isArray(node.required) ? node.required : [];
  for (const [name, sub] of Object.entries(node.properties)) {
    if (!required.includes(name)) size.optionalProperties++;
    if (isPlainObject(sub) && (Array.isArray(sub.anyOf) || Array.isArray(sub.type))) size.unionProperties++;
  }
}

/** A `$ref` chain that leads back to where it started, described; undefined when there is none. */
function findCycle(root: Schema): string | undefined {
  const refsFrom = (node: unknown): string[] => {
    const refs: string[] = [];
    walkSchema(node, (v) => {
      if (
        isPlainObject(v.node) &&
        typeof v.node.$ref === 'string' &&
        v.keyword !== '$defs' &&
        v.keyword !== 'definitions'
      )
        refs.push(v.node.$ref);
    });
    return refs;
  };
  const visiting: unknown[] = [];
  const visit = (target: unknown, ref: string): string | undefined => {
    if (visiting.includes(target)) return ref;
    visiting.push(target);
    const ownRefs = refsFrom(
      isPlainObject(target) ? { ...target, $defs: undefined, definitions: undefined } : target,
    );
    for (const next of ownRefs) {
      const resolved = resolveLocalRef(root, next);
      const found = resolved === undefined ? undefined : visit(resolved, next);
      if (found) return found;
    }
    visiting.pop();
    return undefined;
  };
  return visit(root, '#');
}
