import { wrapCodec } from './codec.js';
import type { LoweredDocument, Lowered } from './lower.js';
import type { Notes } from './notes.js';

/** The property a non-object root is sent under. */
export const ROOT_KEY = 'value';

/** Providers whose root must be a plain object get `{type: object, properties: {value: <root>}}`. */
export function wrapNonObjectRoot(lowered: LoweredDocument, notes: Notes): LoweredDocument {
  const { schema } = lowered;
  if (schema.type === 'object' && schema.anyOf === undefined) return lowered;
  notes.add(
    '#',
    `the root is not a plain object: it is sent as {"${ROOT_KEY}": ...} and unwrapped by restore`,
  );
  return {
    schema: {
      type: 'object',
      properties: { [ROOT_KEY]: schema },
      required: [ROOT_KEY],
      additionalProperties: false,
    },
    codec: wrapCodec(lowered.codec, ROOT_KEY),
    defs: lowered.defs,
    report: lowered.report,
  };
}

/** The root schema with its definitions attached. */
export function withDefs(lowered: LoweredDocument): Lowered {
  if (Object.keys(lowered.defs).length === 0) return lowered;
  return { schema: { ...lowered.schema, $defs: lowered.defs }, codec: lowered.codec };
}
