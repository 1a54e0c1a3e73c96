type Schema = Record<string, unknown>;

/**
 * A deterministic instance of a JSON Schema, good enough for the shapes tests and benchmarks
 * send (objects, arrays, enums, formats, local $refs, combinators). `hint` seeds the strings.
 */
export function generateInstance(schema: Schema, hint = 'value', root: Schema = schema, depth = 0): unknown {
  if (depth > 12) return null;
  const next = (sub: unknown, h = hint) => generateInstance((sub ?? {}) as Schema, h, root, depth + 1);
  if (typeof schema.$ref === 'string') return next(resolveLocalRef(root, schema.$ref));
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options)) return next(options.find((o: Schema) => o.type !== 'null') ?? options[0]);
  }
  if (Array.isArray(schema.allOf))
    return next(Object.assign({}, ...(schema.allOf as Schema[]), { allOf: undefined }));
  const type = pickType(schema);
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      return Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, next(sub, name)]));
    }
    case 'array': {
      const count = Math.max(Number(schema.minItems ?? 1), 1);
      const maxItems = schema.maxItems === undefined ? count : Number(schema.maxItems);
      return Array.from({ length: Math.min(count, maxItems) }, (_, i) =>
        next(schema.items, `${hint}_${i + 1}`),
      );
    }
    case 'string':
      return stringFor(schema, hint);
    case 'integer':
      return Math.ceil(
        Number(
          schema.minimum ?? (schema.exclusiveMinimum !== undefined ? Number(schema.exclusiveMinimum) + 1 : 1),
        ),
      );
    case 'number': {
      const min = Number(schema.minimum ?? 0);
      const max = Number(schema.maximum ?? min + 1);
      return Math.round(((min + max) / 2) * 100) / 100;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return hint;
  }
}

function pickType(schema: Schema): string | undefined {
  const type = schema.type;
  if (Array.isArray(type)) return type.find((t) => t !== 'null') ?? 'null';
  if (typeof type === 'string') return type;
  if (schema.properties) return 'object';
  if (schema.items) return 'array';
  return undefined;
}

function stringFor(schema: Schema, hint: string): string {
  switch (schema.format) {
    case 'date':
      return '2025-01-15';
    case 'date-time':
      return '2025-01-15T10:30:00Z';
    case 'email':
      return 'someone@example.com';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
    case 'uri':
    case 'url':
      return 'https://example.com/';
    default: {
      const min = Number(schema.minLength ?? 0);
      const max = schema.maxLength === undefined ? Infinity : Number(schema.maxLength);
      return hint.padEnd(min, 'x').slice(0, max);
    }
  }
}

function resolveLocalRef(root: Schema, ref: string): unknown {
  if (!ref.startsWith('#')) return {};
  return ref
    .slice(1)
    .split('/')
    .filter(Boolean)
    .reduce<unknown>(
      (node, part) => (node as Schema | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
      root,
    );
}
