import type { SchemaTransform } from '../../language-model.js';
import {
  drop,
  isPrimitive,
  keepFormat,
  lowerDocument,
  measureSchema,
  cyclicDefs,
  Notes,
  runTransform,
  Unsupported,
  withDefs,
  wrapNonObjectRoot,
  type CoreDocument,
  type Lowered,
  type LowerOptions,
  type LoweringReport,
  type SchemaSize,
  type Profile,
  type Schema,
} from '../../schema-transform/index.js';

/**
 * Anthropic structured outputs (`output_config.format` JSON outputs and `strict: true` tools; the
 * same schema works as a forced tool's `input_schema`), as documented in "JSON Schema limitations"
 * (https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations)
 * and applied by the official SDK's `transformJSONSchema`: the root is an object; every object has
 * `additionalProperties: false`; optional properties are allowed; no recursion; no numeric bounds,
 * no string length bounds; `minItems` only 0 or 1; enum and const of primitives; the listed string
 * formats. Limits: 24 optional properties and 16 union-typed properties across the schema.
 *
 * What it cannot express is encoded rather than sent in JSON mode: a value of any type as a string
 * holding its JSON text; recursion unrolled a few levels deep, the rest as JSON text; optional
 * properties past the limit as required and nullable (restore drops that null) while the
 * union-typed budget allows.
 */
export const ANTHROPIC_FORMATS = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'uri',
  'ipv4',
  'ipv6',
  'uuid',
]);

const ANTHROPIC_PROFILE: Profile = {
  splitTypes: 'always',
  unionKeyword: 'anyOf',
  optional: 'keep',
  objects: 'closed',
  recursion: false,
  prefixItems: 'fold',
  anyAsEntries: false,
  any: undefined,
  anyAsJsonText: true,
  itemsOptional: false,
  keepTitle: true,
  typeArrayMember: () => true,
  literal: isPrimitive,
  constAsEnum: false,
  string: (b, note) => ({
    ...keepFormat(b, ANTHROPIC_FORMATS, note),
    ...drop(b, ['pattern', 'minLength', 'maxLength'], note),
  }),
  number: (b, note) =>
    drop(b, ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'], note),
  arrayBounds: minItemsAtMostOne,
};

/** `minItems: n` (n > 1) becomes `minItems: 1`: every array of n items also has one. */
function minItemsAtMostOne(branch: Schema, note: (message: string) => void): Schema {
  drop(branch, ['maxItems'], note);
  if (typeof branch.minItems !== 'number' || branch.minItems < 1) return {};
  if (branch.minItems > 1) note(`minItems ${branch.minItems} is sent as 1`);
  return { minItems: 1 };
}

export const ANTHROPIC_LIMITS = { optionalProperties: 24, unionProperties: 16 };

/** Most levels a recursive definition is unrolled to: the deepest that fits the limits is sent. */
const MAX_UNROLL = 3;

export function transformSchema(schema: Record<string, unknown>): SchemaTransform {
  return runTransform(schema, (doc, notes) => {
    if (doc.keptDefs && cyclicDefs(doc.defs).size) throw new Unsupported(`${doc.keptDefs}, with recursion`);
    // Deeper unrolling only adds properties: stop at the first depth past the limits. Unrolling
    // cuts recursion into JSON text; a deeper level is only sent as it is (no further cuts).
    let fits = lowerWithinLimits(doc, 0);
    for (let unroll = 1; unroll <= MAX_UNROLL && doc.defs.size && !doc.keptDefs; unroll++) {
      try {
        fits = lowerWithinLimits(doc, unroll);
      } catch (error) {
        if (!(error instanceof Unsupported)) throw error;
        break;
      }
    }
    notes.absorb(fits.notes);
    return fits.lowered;
  });
}

/**
 * One lowering; over a limit, the properties holding the most optional or union-typed properties
 * are sent as JSON text until what is left fits, then (still over the optional-property limit)
 * enough optional properties become required and nullable: first those already union-typed (no
 * cost to the union budget), never one that accepts null (restore could not tell its null from
 * absent).
 */
function lowerWithinLimits(doc: CoreDocument, unroll: number): { lowered: Lowered; notes: Notes } {
  const first = lowerWithinBudget(doc, { unroll, measureProperties: true });
  if (!first.over) return first;
  // Cutting parts out as JSON text is for the shallowest form: a deeper unrolling that needs it is worth less.
  if (unroll > 0) throw first.over;
  const asJsonText = subtreesToText(first.report, first.size);
  if (asJsonText.size === 0) throw first.over;
  const second = lowerWithinBudget(doc, { unroll, asJsonText });
  if (second.over) throw second.over;
  return second;
}

/**
 * Properties whose contents to send as JSON text, largest first, until the rest fits the limits
 * once the nullable budget is used: each one cut removes the optional and union-typed properties
 * inside it (it counts as one plain property itself).
 */
function subtreesToText(report: LoweringReport, size: SchemaSize): Set<string> {
  const chosen = new Set<string>();
  let optional = size.optionalProperties;
  let unions = size.unionProperties;
  const fits = () =>
    unions <= ANTHROPIC_LIMITS.unionProperties &&
    optional - ANTHROPIC_LIMITS.optionalProperties <= ANTHROPIC_LIMITS.unionProperties - unions;
  const weight = (n: LoweringReport['nested'][number]) => n.optionalProperties + n.unionProperties;
  // Outermost first among equals: a path inside a chosen one is skipped.
  const candidates = [...report.nested].sort(
    (a, b) => weight(b) - weight(a) || a.path.length - b.path.length,
  );
  for (const candidate of candidates) {
    if (fits()) break;
    if ([...chosen].some((path) => candidate.path.startsWith(`${path}/`))) continue;
    chosen.add(candidate.path);
    optional -= candidate.optionalProperties;
    unions -= candidate.unionProperties;
  }
  return fits() ? chosen : new Set();
}

interface Attempt {
  lowered: Lowered;
  notes: Notes;
  report: LoweringReport;
  size: SchemaSize;
  /** Why it is over the limits, if it is. */
  over?: Unsupported;
}

/** A lowering within the limits, using the nullable budget for optional properties past theirs. */
function lowerWithinBudget(doc: CoreDocument, options: LowerOptions): Attempt {
  const attempt = (options: LowerOptions) => {
    const own = new Notes();
    // Definitions kept (too many to inline) and acyclic: sent as $defs, which Anthropic accepts.
    const profile = doc.keptDefs ? { ...ANTHROPIC_PROFILE, recursion: true } : ANTHROPIC_PROFILE;
    const document = wrapNonObjectRoot(lowerDocument(doc, profile, own, options), own);
    const lowered = withDefs(document);
    return { lowered, report: document.report, own, size: measureSchema(lowered.schema) };
  };
  const first = attempt(options);
  const { report } = first;
  let { lowered, own, size } = first;
  const excess = size.optionalProperties - ANTHROPIC_LIMITS.optionalProperties;
  if (excess > 0) {
    const candidates = report.optionals
      .filter((o) => !o.acceptsNull)
      .sort((a, b) => Number(b.union) - Number(a.union));
    const chosen = candidates.slice(0, excess);
    const cost = chosen.filter((o) => !o.union).length;
    if (chosen.length === excess && size.unionProperties + cost <= ANTHROPIC_LIMITS.unionProperties) {
      ({ lowered, own, size } = attempt({ ...options, nullable: new Set(chosen.map((o) => o.path)) }));
      own.add(
        '#',
        `${excess} optional properties past Anthropic's limit of ${ANTHROPIC_LIMITS.optionalProperties} are sent as required and nullable (restore drops their null)`,
      );
    }
  }
  for (const [key, limit] of Object.entries(ANTHROPIC_LIMITS)) {
    const value = size[key as keyof typeof ANTHROPIC_LIMITS];
    if (value > limit) {
      const over = new Unsupported(`${value} ${key} exceed Anthropic's limit of ${limit}`);
      return { lowered, notes: own, report, size, over };
    }
  }
  return { lowered, notes: own, report, size };
}
