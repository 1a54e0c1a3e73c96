import { annotationsOf } from './core.js';
import { hasType, INSTANCE_TYPES, jsonTypeOf, pick, typeList, type Schema } from './json.js';
import { TYPE_KEYWORDS } from './keywords.js';

/**
 * One schema per instance type a node admits, each with only that type's keywords (and literals).
 * A node without `type` admits every type its literals have, or all six: `{properties: ...}` also
 * accepts strings, as JSON Schema says. Together the branches accept exactly what the node does.
 */
export function splitByType(node: Schema): Schema[] {
  const literals = 'const' in node ? [node.const] : Array.isArray(node.enum) ? node.enum : undefined;
  const declared = typeList(node);
  const types = declared.length
    ? declared
    : literals
      ? [...new Set(literals.map(literalType))]
      : [...INSTANCE_TYPES];
  const distinct = types.filter((t) => !(t === 'integer' && types.includes('number')));
  return distinct.flatMap((type) => branchFor(node, type, literals, 'const' in node));
}

function literalType(value: unknown): string {
  const type = jsonTypeOf(value);
  return type === 'integer' ? 'number' : type;
}

function branchFor(node: Schema, type: string, literals: unknown[] | undefined, isConst: boolean): Schema[] {
  const branch: Schema = {
    ...annotationsOf(node),
    type,
    ...pick(node, TYPE_KEYWORDS[type as keyof typeof TYPE_KEYWORDS] ?? []),
  };
  if (!literals) return [branch];
  const values = literals.filter((v) => hasType(v, type));
  if (values.length === 0) return [];
  if (isConst) branch.const = values[0];
  else branch.enum = values;
  return [branch];
}
