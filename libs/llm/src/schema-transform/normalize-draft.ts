import { isObject, setOwn, type Schema } from './json.js';

export type Draft = 'draft-04' | 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

const DIALECTS: Record<string, Draft> = {
  'json-schema.org/draft-04/schema': 'draft-04',
  'json-schema.org/draft-06/schema': 'draft-06',
  'json-schema.org/draft-07/schema': 'draft-07',
  'json-schema.org/draft/2019-09/schema': '2019-09',
  'json-schema.org/draft/2020-12/schema': '2020-12',
};

/** The draft named by the root `$schema`; without one, draft-04 if it uses `id`, else 2020-12. */
export function detectDraft(root: Schema): Draft {
  if (typeof root.$schema !== 'string')
    return typeof root.id === 'string' && root.$id === undefined ? 'draft-04' : '2020-12';
  const key = root.$schema
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/#$/, '')
    .toLowerCase();
  return DIALECTS[key] ?? '2020-12';
}

const isDraftUpTo7 = (draft: Draft) => draft === 'draft-04' || draft === 'draft-06' || draft === 'draft-07';

/**
 * One schema object's own keywords rewritten in their 2020-12 form (children are left as they are):
 * draft-04 boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers, tuple `items` becomes
 * `prefixItems` (and `additionalItems` the new `items`), `dependencies` splits into
 * `dependentRequired`/`dependentSchemas`, and up to draft-07 the siblings of `$ref` are ignored,
 * as those drafts specify.
 */
export function normalizeKeywords(node: Schema, draft: Draft): Schema {
  if (isDraftUpTo7(draft) && typeof node.$ref === 'string') return { $ref: node.$ref };
  const out: Schema = { ...node };
  if (draft === 'draft-04') normalizeDraft04Bounds(out);
  if (draft !== '2020-12' || Array.isArray(out.items)) normalizeTupleItems(out);
  if (out.dependencies !== undefined) splitDependencies(out);
  return out;
}

function normalizeDraft04Bounds(out: Schema): void {
  for (const [bound, exclusive] of [
    ['minimum', 'exclusiveMinimum'],
    ['maximum', 'exclusiveMaximum'],
  ] as const) {
    if (typeof out[exclusive] !== 'boolean') continue;
    if (out[exclusive] === true && typeof out[bound] === 'number') {
      out[exclusive] = out[bound];
      delete out[bound];
    } else delete out[exclusive];
  }
}

function normalizeTupleItems(out: Schema): void {
  if (Array.isArray(out.items)) {
    out.prefixItems = out.items;
    if (out.additionalItems === undefined) delete out.items;
    else out.items = out.additionalItems;
  }
  delete out.additionalItems;
}

function splitDependencies(out: Schema): void {
  const dependencies = out.dependencies;
  delete out.dependencies;
  if (!isObject(dependencies)) return;
  const required: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(dependencies)) {
    setOwn(Array.isArray(value) ? required : schemas, name, value);
  }
  if (Object.keys(required).length) out.dependentRequired = required;
  if (Object.keys(schemas).length) out.dependentSchemas = schemas;
}
