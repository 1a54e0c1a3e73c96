import { ServiceError } from '@sps/contracts';

/** The JSON Schema dialects the validator understands. */
export type JsonSchemaDraft = 'draft-04' | 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

export const JSON_SCHEMA_DRAFTS: readonly JsonSchemaDraft[] = [
  'draft-04',
  'draft-06',
  'draft-07',
  '2019-09',
  '2020-12',
];

/** The meta-schema URI each draft is registered under in its ajv instance. */
export const META_SCHEMA_URI: Readonly<Record<JsonSchemaDraft, string>> = {
  'draft-04': 'http://json-schema.org/draft-04/schema#',
  'draft-06': 'http://json-schema.org/draft-06/schema#',
  'draft-07': 'http://json-schema.org/draft-07/schema#',
  '2019-09': 'https://json-schema.org/draft/2019-09/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

/** The draft used when a schema does not say (and has no draft-04 style `id`). */
export const DEFAULT_DRAFT: JsonSchemaDraft = '2020-12';

const KNOWN_DIALECTS: Readonly<Record<string, JsonSchemaDraft>> = {
  'json-schema.org/draft-04/schema': 'draft-04',
  'json-schema.org/draft-06/schema': 'draft-06',
  'json-schema.org/draft-07/schema': 'draft-07',
  'json-schema.org/draft/2019-09/schema': '2019-09',
  'json-schema.org/draft/2020-12/schema': '2020-12',
  // "the latest draft", as some generators still write it.
  'json-schema.org/schema': '2020-12',
};

export interface DraftDetection {
  draft: JsonSchemaDraft;
  /**
   * How the root `$schema` relates to the draft: `known` (one of the standard meta-schema URIs, any
   * spelling), `absent`, or `unknown` (a string naming no standard dialect, e.g. a custom meta-schema).
   * Custom meta-schemas are never fetched; such schemas are validated as the default draft.
   */
  dialect: 'known' | 'absent' | 'unknown';
}

/**
 * Picks the draft of a schema from its root `$schema`: http or https, with or without the trailing
 * `#`. A schema without `$schema` that identifies itself with a draft-04 style `id` (and no `$id`) is
 * draft-04; any other schema without `$schema` is 2020-12. Draft-03 is refused (INVALID_SCHEMA).
 */
export function detectDraft(schema: Record<string, unknown>): DraftDetection {
  const $schema = schema.$schema;
  if ($schema === undefined) {
    const draft04Id = typeof schema.id === 'string' && schema.$id === undefined;
    return { draft: draft04Id ? 'draft-04' : DEFAULT_DRAFT, dialect: 'absent' };
  }
  if (typeof $schema !== 'string') return { draft: DEFAULT_DRAFT, dialect: 'unknown' };
  const key = $schema
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/#$/, '')
    .toLowerCase();
  const draft = KNOWN_DIALECTS[key];
  if (draft) return { draft, dialect: 'known' };
  if (key === 'json-schema.org/draft-03/schema') {
    throw new ServiceError(
      'INVALID_SCHEMA',
      `JSON Schema draft-03 ($schema "${$schema}") is not supported; use draft-04 or later`,
    );
  }
  return { draft: DEFAULT_DRAFT, dialect: 'unknown' };
}
