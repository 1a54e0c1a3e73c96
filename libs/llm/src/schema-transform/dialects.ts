import { isObject, type Schema } from './json.js';

/**
 * What a node-llama-cpp (GbnfJsonSchema) schema means, written as standard JSON Schema: every
 * declared property is emitted (required), `additionalProperties` defaults to false, `oneOf` is
 * an alternation (anyOf) and every `prefixItems` entry is required. For validating instances
 * against the local provider's schema with a standard validator.
 */
export function gbnfAsJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(gbnfAsJsonSchema);
  if (!isObject(node)) return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    out[key === 'oneOf' ? 'anyOf' : key] = key === 'enum' || key === 'const' ? value : mapSchemas(key, value);
  }
  if (out.type === 'object') {
    out.required = Object.keys(isObject(out.properties) ? out.properties : {});
    out.additionalProperties ??= false;
  }
  if (Array.isArray(out.prefixItems))
    out.minItems = Math.max(typeof out.minItems === 'number' ? out.minItems : 0, out.prefixItems.length);
  return out;
}

function mapSchemas(key: string, value: unknown): unknown {
  if ((key === 'properties' || key === '$defs') && isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, gbnfAsJsonSchema(sub)]));
  }
  return gbnfAsJsonSchema(value);
}
