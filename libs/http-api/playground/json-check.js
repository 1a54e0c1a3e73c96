// JSON parsing with a line and column for errors, and a light structural check of a JSON Schema
// (the API's POST /v1/schema-check is the full one). No DOM: usable from Node too.

/** Line and column (1-based) of a character offset. */
export function lineColumn(text, offset) {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/**
 * Where a JSON text stops being JSON: the offset of the first character the grammar refuses (the
 * text's length when it ends too early). Engines word their errors differently and some give no
 * position ("Unexpected token"), so the position is found here.
 */
export function jsonErrorOffset(text) {
  let i = 0;
  const fail = () => {
    throw i;
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i += 1;
  };
  const literal = (word) => {
    for (const char of word) if (text[i++] !== char) return ((i -= 1), fail());
  };
  const string = () => {
    i += 1; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] < ' ') fail();
      if (text[i] === '\\') {
        i += 1;
        if (text[i] === 'u') {
          for (let k = 1; k <= 4; k += 1)
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) return ((i += k), fail());
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i += 1;
    }
    if (i >= text.length) fail();
    i += 1;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) fail();
    i += match[0].length;
  };
  const value = () => {
    space();
    const char = text[i];
    if (char === '{') {
      i += 1;
      space();
      if (text[i] === '}') return void (i += 1);
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ':') fail();
        i += 1;
        value();
        space();
        if (text[i] === ',') i += 1;
        else if (text[i] === '}') return void (i += 1);
        else fail();
      }
    }
    if (char === '[') {
      i += 1;
      space();
      if (text[i] === ']') return void (i += 1);
      for (;;) {
        value();
        space();
        if (text[i] === ',') i += 1;
        else if (text[i] === ']') return void (i += 1);
        else fail();
      }
    }
    if (char === '"') return string();
    if (char === 't') return literal('true');
    if (char === 'f') return literal('false');
    if (char === 'n') return literal('null');
    if (char === '-' || (char >= '0' && char <= '9')) return number();
    fail();
  };
  try {
    value();
    space();
    return i < text.length ? i : undefined;
  } catch (offset) {
    if (typeof offset !== 'number') throw offset;
    return Math.min(offset, text.length);
  }
}

/** `{ok: true, value}` or `{ok: false, message, line, column}` naming where the error is. */
export function parseJson(text) {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const offset = jsonErrorOffset(text) ?? text.length;
    const where = lineColumn(text, offset);
    const found =
      offset >= text.length ? 'the text ends too early' : `unexpected ${JSON.stringify(text[offset])}`;
    const reason = String(error?.message ?? error)
      .replace(/\s*\(line \d+ column \d+\)/, '')
      .replace(/ (in JSON )?at position \d+/, '');
    return {
      ok: false,
      message: `JSON error at line ${where.line}, column ${where.column}: ${found} (${reason})`,
      ...where,
    };
  }
}

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMAS = [
  'items',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
];

/** The first structural problem of a schema (as `path: reason`), or undefined. */
export function checkSchemaShape(schema, path = '#') {
  if (typeof schema === 'boolean') return undefined;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    return `${path}: a schema is a JSON object (or true/false)`;
  if ('type' in schema) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const bad = types.find((type) => !TYPES.has(type));
    if (bad !== undefined) return `${path}/type: ${JSON.stringify(bad)} is not a JSON Schema type`;
  }
  if (
    'required' in schema &&
    !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === 'string'))
  )
    return `${path}/required: must be an array of property names`;
  if ('enum' in schema && !Array.isArray(schema.enum)) return `${path}/enum: must be an array`;
  for (const key of SUBSCHEMA_MAPS) {
    if (!(key in schema)) continue;
    const map = schema[key];
    if (map === null || typeof map !== 'object' || Array.isArray(map))
      return `${path}/${key}: must be an object`;
    for (const [name, sub] of Object.entries(map)) {
      const problem = checkSchemaShape(sub, `${path}/${key}/${name}`);
      if (problem) return problem;
    }
  }
  for (const key of SUBSCHEMA_LISTS) {
    if (!(key in schema)) continue;
    if (!Array.isArray(schema[key])) return `${path}/${key}: must be an array of schemas`;
    for (const [i, sub] of schema[key].entries()) {
      const problem = checkSchemaShape(sub, `${path}/${key}/${i}`);
      if (problem) return problem;
    }
  }
  for (const key of SUBSCHEMAS) {
    if (!(key in schema)) continue;
    const subs = key === 'items' && Array.isArray(schema.items) ? schema.items : [schema[key]];
    for (const sub of subs) {
      const problem = checkSchemaShape(sub, `${path}/${key}`);
      if (problem) return problem;
    }
  }
  return undefined;
}
