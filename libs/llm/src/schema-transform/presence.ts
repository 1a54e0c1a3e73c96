import { isObject } from './json.js';
import type { ResolvedSchema, SchemaNode } from './resolve-refs.js';

const CONDITIONAL = ['if', 'then', 'else', 'not', 'dependentSchemas'];

/**
 * Property names some dropped keyword may require to be present: the `required` lists under
 * `if`/`then`/`else`/`not`/`dependentSchemas` and the targets of `dependentRequired`. For such an
 * optional property that already accepts null, a null answer is kept as present (not restored as
 * absent), because its presence can matter to the final validation.
 */
export function presenceSensitiveNames(resolved: ResolvedSchema): Set<string> {
  const names = new Set<string>();
  const roots = [resolved.root, ...resolved.defs.values()];
  for (const root of roots) visit(root, false, names, new Set());
  return names;
}

function visit(
  node: SchemaNode | unknown,
  conditional: boolean,
  names: Set<string>,
  seen: Set<unknown>,
): void {
  if (!isObject(node) || seen.has(node)) return;
  seen.add(node);
  if (conditional && Array.isArray(node.required))
    for (const name of node.required) if (typeof name === 'string') names.add(name);
  if (isObject(node.dependentRequired))
    for (const list of Object.values(node.dependentRequired))
      if (Array.isArray(list)) list.forEach((n) => names.add(String(n)));
  for (const [key, value] of Object.entries(node)) {
    if (key === 'enum' || key === 'const' || key === 'required') continue;
    const inside = conditional || CONDITIONAL.includes(key);
    if (Array.isArray(value)) value.forEach((item) => visit(item, inside, names, seen));
    else if (isObject(value)) visit(value, inside, names, seen);
  }
}
