import { Type, type IntegerOptions } from '@sinclair/typebox';

/**
 * The largest value of a PostgreSQL `integer` (int4) column (libs/db/src/migrations: versions,
 * counts, indexes). Every integer the API passes to the database is bounded by it in the schema,
 * so an out-of-range one is a 400 naming the field, never a database error (500).
 */
export const PG_INT4_MAX = 2_147_483_647;

/** A version number of a registered schema or template (an int4 column). */
export const Version = (options: IntegerOptions = {}) =>
  Type.Integer({ minimum: 1, maximum: PG_INT4_MAX, ...options });

/** The name of a registered schema or template, as it appears in paths. */
export const RegistryName = Type.String({
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$',
  description: 'letters, digits, . _ - (at most 128; starting with a letter or digit)',
});

/**
 * A page cursor of GET /v1/jobs: opaque, but with a shape the schema states, so that every string
 * that matches the pattern is one the API accepts (24 bytes, base64url: a microsecond timestamp and
 * an id). Anything else is a 400 naming `querystring.cursor`.
 */
export const CURSOR_PATTERN = '^[A-Za-z0-9_-]{32}$';
export const Cursor = Type.String({
  pattern: CURSOR_PATTERN,
  description: 'the `next_cursor` of the previous page, unchanged',
});

/**
 * Exactly one of these properties: a `oneOf` of `required`s, which generators and validators
 * both understand. The error envelope turns its failures into one field: `prompt: is required (or
 * template)` when none is given, `template: give either prompt or template, not both` when two are.
 */
export const exactlyOneOf = (...names: string[]) => ({ oneOf: names.map((name) => ({ required: [name] })) });

/** At most one of two properties (`not` both required): a 400 naming the second when both are given. */
export const notBoth = (first: string, second: string) => ({ not: { required: [first, second] } });
