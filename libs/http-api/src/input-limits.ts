import { LIMITS, ServiceError } from '@sps/contracts';

/**
 * Bounds a caller's schema before anything compiles it: size in bytes and nesting depth. Safe on
 * any input: the depth is counted without recursion, and a value too deep even for JSON.stringify
 * is refused rather than thrown as a RangeError (HTTP bodies are depth-limited before this runs).
 */
export function checkSchemaLimits(schema: unknown, field = 'schema'): void {
  if (schema === undefined) return;
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(schema));
  } catch (error) {
    if (error instanceof RangeError) throw invalid(field, 'is nested too deeply to be measured');
    throw error;
  }
  if (bytes > LIMITS.schemaMaxBytes) {
    throw invalid(field, `is ${bytes} bytes; at most ${LIMITS.schemaMaxBytes} are allowed`);
  }
  const depth = nestingDepth(schema);
  if (depth > LIMITS.schemaMaxDepth) {
    throw invalid(field, `nests ${depth} levels deep; at most ${LIMITS.schemaMaxDepth} are allowed`);
  }
}

function invalid(field: string, reason: string): ServiceError {
  return new ServiceError('INVALID_REQUEST', `${field}: ${reason}`, { fields: [{ field, reason }] });
}

/** Keys whose value is a map of name → schema: the map itself is not a schema level. */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions', 'patternProperties']);

/**
 * Depth counted in schema levels (properties, items, combinators...), not raw JSON objects: each
 * object is one level, arrays and the maps of SCHEMA_MAPS add none. Iterative (explicit stack).
 */
function nestingDepth(root: unknown): number {
  let max = 0;
  // [node, number of objects above it]
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, above] = stack.pop()!;
    if (!node || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const item of node) stack.push([item, above]);
      continue;
    }
    const level = above + 1;
    if (level > max) max = level;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (SCHEMA_MAPS.has(key)) {
        if (value && typeof value === 'object')
          for (const child of Object.values(value)) stack.push([child, level]);
      } else {
        stack.push([value, level]);
      }
    }
  }
  return max;
}
