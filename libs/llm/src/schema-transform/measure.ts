import { isObject, typeList, type Schema } from './json.js';

export interface SchemaSize {
  properties: number;
  /** Deepest chain of object schemas (the root object is 1); `$ref`s are not followed. */
  objectDepth: number;
  enumValues: number;
  /** Property names, definition names, enum and const values, in characters. */
  stringLength: number;
  /** Largest total length of one string enum with more than 250 values. */
  largeEnumLength: number;
  /** Properties not listed in their object's `required`. */
  optionalProperties: number;
  /** Properties whose schema is a union (`anyOf`/`oneOf`) or has a type array. */
  unionProperties: number;
}

/** Counts what providers limit, over the root and every definition. */
export function measureSchema(schema: Schema): SchemaSize {
  const size: SchemaSize = {
    properties: 0,
    objectDepth: 0,
    enumValues: 0,
    stringLength: 0,
    largeEnumLength: 0,
    optionalProperties: 0,
    unionProperties: 0,
  };
  visit(schema, 0, size);
  for (const [name, def] of Object.entries(isObject(schema.$defs) ? schema.$defs : {})) {
    size.stringLength += name.length;
    visit(def, 0, size);
  }
  return size;
}

function visit(node: unknown, depth: number, size: SchemaSize): void {
  if (!isObject(node)) return;
  const here = typeList(node).includes('object') || isObject(node.properties) ? depth + 1 : depth;
  size.objectDepth = Math.max(size.objectDepth, here);
  countLiterals(node, size);
  if (isObject(node.properties)) countProperties(node, node.properties, size);
  for (const child of childrenOf(node)) visit(child, here, size);
}

function countLiterals(node: Schema, size: SchemaSize): void {
  if (Array.isArray(node.enum)) {
    size.enumValues += node.enum.length;
    const length = node.enum.reduce((n: number, v) => n + (typeof v === 'string' ? v.length : 0), 0);
    size.stringLength += length;
    if (node.enum.length > 250 && node.enum.every((v) => typeof v === 'string'))
      size.largeEnumLength = Math.max(size.largeEnumLength, length);
  }
  if (typeof node.const === 'string') size.stringLength += node.const.length;
}

function countProperties(node: Schema, properties: Record<string, unknown>, size: SchemaSize): void {
  const required = Array.isArray(node.required) ? node.required : [];
  for (const [name, sub] of Object.entries(properties)) {
    size.properties++;
    size.stringLength += name.length;
    if (!required.includes(name)) size.optionalProperties++;
    if (isObject(sub) && (Array.isArray(sub.anyOf) || Array.isArray(sub.oneOf) || Array.isArray(sub.type)))
      size.unionProperties++;
  }
}

function childrenOf(node: Schema): unknown[] {
  const children: unknown[] = [];
  if (isObject(node.properties)) children.push(...Object.values(node.properties));
  for (const key of ['items', 'additionalProperties']) if (isObject(node[key])) children.push(node[key]);
  for (const key of ['prefixItems', 'anyOf', 'oneOf'])
    if (Array.isArray(node[key])) children.push(...(node[key] as unknown[]));
  return children;
}
