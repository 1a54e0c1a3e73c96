/**
 * OpenAI Structured Outputs, strict mode: the schema rules the real API answers 400 for, from
 * "Supported schemas" (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas)
 * and the official SDK's `toStrictJsonSchema` (openai-node `src/lib/transform.ts`). The walker and
 * helpers here are shared by the other providers' rules.
 */
type Schema = Record<string, unknown>;

export const OPENAI_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  '$ref',
  '$defs',
  'description',
  'title',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
]);
export const OPENAI_STRING_FORMATS = new Set([
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
export const OPENAI_LIMITS = {
  properties: 5_000,
  objectDepth: 10,
  enumValues: 1_000,
  stringLength: 120_000,
  largeEnumLength: 15_000,
};
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'array', 'object']);

export function isPlainObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typesOf(schema: Schema): string[] {
  return typeof schema.type === 'string'
    ? [schema.type]
    : Array.isArray(schema.type)
      ? schema.type.map(String)
      : [];
}

export interface Visit {
  node: unknown;
  path: string;
  /** The keyword the node sits under (`root`, `properties`, `items`, `anyOf`, `$defs`...). */
  keyword: string;
  /** Number of object schemas from the root down to this node, this one included. */
  objectDepth: number;
}

const SINGLE = [
  'additionalProperties',
  'items',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'additionalItems',
  'unevaluatedItems',
  'unevaluatedProperties',
];
const LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems', 'items'];
const MAPS = ['properties', '$defs', 'definitions', 'patternProperties', 'dependentSchemas'];

/** Visits every subschema (under any keyword, supported or not), root first. */
export function walkSchema(
  root: unknown,
  visit: (v: Visit) => void,
  path = '#',
  keyword = 'root',
  depth = 0,
): void {
  const objectDepth =
    isPlainObject(root) && (typesOf(root).includes('object') || isPlainObject(root.properties))
      ? depth + 1
      : depth;
  visit({ node: root, path, keyword, objectDepth });
  if (!isPlainObject(root)) return;
  const childDepth = (key: string) => (key === '$defs' || key === 'definitions' ? 0 : objectDepth);
  for (const key of SINGLE)
    if (root[key] !== undefined && !Array.isArray(root[key]))
      walkSchema(root[key], visit, `${path}/${key}`, key, objectDepth);
  for (const key of LISTS)
    if (Array.isArray(root[key]))
      (root[key] as unknown[]).forEach((c, i) =>
        walkSchema(c, visit, `${path}/${key}/${i}`, key, objectDepth),
      );
  for (const key of MAPS) {
    const map = root[key];
    if (isPlainObject(map))
      for (const [name, c] of Object.entries(map))
        walkSchema(c, visit, `${path}/${key}/${name}`, key, childDepth(key));
  }
}

/** The node a local `$ref` (`#`, `#/json/pointer`) names, or undefined. */
export function resolveLocalRef(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const token of ref.slice(2).split('/')) {
    const key = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
    node = Array.isArray(node) ? node[Number(key)] : isPlainObject(node) ? node[key] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

export function isPrimitiveValue(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** Common checks: keyword whitelist, types, enum, local refs, compilable patterns. */
export function checkCommon(
  root: unknown,
  v: Visit,
  allowed: Set<string>,
  out: string[],
): v is Visit & { node: Schema } {
  if (typeof v.node === 'boolean') {
    if (!(v.keyword === 'additionalProperties' && v.node === false))
      out.push(`${v.path}: boolean schemas are not supported`);
    return false;
  }
  if (!isPlainObject(v.node)) {
    out.push(`${v.path}: a schema must be an object`);
    return false;
  }
  const node = v.node;
  for (const key of Object.keys(node))
    if (!allowed.has(key)) out.push(`${v.path}: '${key}' is not permitted`);
  for (const t of typesOf(node)) if (!TYPES.has(t)) out.push(`${v.path}: unknown type '${t}'`);
  if (node.enum !== undefined && (!Array.isArray(node.enum) || node.enum.length === 0))
    out.push(`${v.path}: 'enum' must be a non-empty array`);
  if (typeof node.$ref === 'string' && resolveLocalRef(root, node.$ref) === undefined)
    out.push(`${v.path}: $ref '${node.$ref}' does not resolve to a local definition`);
  if (typeof node.pattern === 'string' && !compiles(node.pattern))
    out.push(`${v.path}: 'pattern' is not a valid regular expression`);
  return true;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

/** Violations of OpenAI's strict-mode schema rules (empty: the API accepts the schema). */
export function checkOpenAISchema(schema: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (!isPlainObject(schema) || schema.type !== 'object')
    out.push(
      `#: the root schema must be of type "object", got ${JSON.stringify(isPlainObject(schema) ? schema.type : schema)}`,
    );
  if (isPlainObject(schema) && schema.anyOf !== undefined) out.push('#: the root schema must not be anyOf');
  walkSchema(schema, (v) => {
    if (!checkCommon(schema, v, OPENAI_KEYWORDS, out)) return;
    checkOpenAINode(v.node, v.path, out);
  });
  checkOpenAILimits(schema, out);
  return out;
}

function checkOpenAINode(node: Schema, path: string, out: string[]): void {
  const types = typesOf(node);
  if (
    !types.length &&
    node.anyOf === undefined &&
    node.$ref === undefined &&
    node.enum === undefined &&
    node.const === undefined
  ) {
    out.push(`${path}: schema must have a 'type' key`);
  }
  if (node.enum !== undefined && Array.isArray(node.enum) && !node.enum.every(isPrimitiveValue))
    out.push(`${path}: enum values must be strings, numbers, booleans or null`);
  if (node.anyOf !== undefined && (!Array.isArray(node.anyOf) || node.anyOf.length === 0))
    out.push(`${path}: 'anyOf' must be a non-empty array`);
  if (typeof node.format === 'string' && !OPENAI_STRING_FORMATS.has(node.format))
    out.push(`${path}: format '${node.format}' is not supported`);
  if (types.includes('object')) checkStrictObject(node, path, out);
  if (types.includes('array') && !isPlainObject(node.items))
    out.push(`${path}: an array schema must have 'items'`);
}

function checkStrictObject(node: Schema, path: string, out: string[]): void {
  if (node.additionalProperties !== false)
    out.push(`${path}: 'additionalProperties' is required to be supplied and to be false`);
  const properties = isPlainObject(node.properties) ? Object.keys(node.properties) : [];
  const required = Array.isArray(node.required) ? node.required : [];
  const missing = properties.filter((name) => !required.includes(name));
  if (!Array.isArray(node.required) || missing.length) {
    out.push(
      `${path}: 'required' is required to be supplied and to be an array including every key in properties${missing.length ? `; missing ${missing.map((m) => `'${m}'`).join(', ')}` : ''}`,
    );
  }
  for (const name of required)
    if (!properties.includes(String(name)))
      out.push(`${path}: required property '${String(name)}' is not in properties`);
}

function checkOpenAILimits(schema: unknown, out: string[]): void {
  const size = { properties: 0, objectDepth: 0, enumValues: 0, stringLength: 0, largeEnumLength: 0 };
  walkSchema(schema, (v) => {
    if (!isPlainObject(v.node)) return;
    if (v.keyword === '$defs') size.stringLength += v.path.split('/').pop()!.length;
    size.objectDepth = Math.max(size.objectDepth, v.objectDepth);
    if (isPlainObject(v.node.properties)) {
      const names = Object.keys(v.node.properties);
      size.properties += names.length;
      size.stringLength += names.join('').length;
    }
    if (Array.isArray(v.node.enum)) {
      const length = v.node.enum.reduce((n: number, e) => n + (typeof e === 'string' ? e.length : 0), 0);
      size.enumValues += v.node.enum.length;
      size.stringLength += length;
      if (v.node.enum.length > 250) size.largeEnumLength = Math.max(size.largeEnumLength, length);
    }
    if (typeof v.node.const === 'string') size.stringLength += v.node.const.length;
  });
  for (const [key, limit] of Object.entries(OPENAI_LIMITS)) {
    const value = size[key as keyof typeof size];
    if (value > limit) out.push(`#: ${key} is ${value}, over the limit of ${limit}`);
  }
}
