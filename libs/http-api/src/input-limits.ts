import { LIMITS, ServiceError } from '@sps/contracts';

/** Bounds a caller's schema before anything compiles it: size in bytes and nesting depth. */
export function checkSchemaLimits(schema: unknown, field = 'schema'): void {
  if (schema === undefined) return;
  const bytes = Buffer.byteLength(JSON.stringify(schema));
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

/** Depth counted in schema levels (properties, items, combinators...), not raw JSON objects. */
function nestingDepth(node: unknown): number {
  if (Array.isArray(node)) return Math.max(0, ...node.map(nestingDepth));
  if (!node || typeof node !== 'object') return 0;
  const children = Object.entries(node as Record<string, unknown>).map(([key, value]) =>
    key === 'properties' || key === '$defs' || key === 'definitions' || key === 'patternProperties'
      ? Math.max(0, ...Object.values((value ?? {}) as Record<string, unknown>).map(nestingDepth))
      : nestingDepth(value),
  );
  return 1 + Math.max(0, ...children);
}
